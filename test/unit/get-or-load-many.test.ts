import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCache, LoaderError } from '../../src/index.js';
import { deferred, FakeClock } from '../helpers/fake-clock.js';

const newCache = () => createCache({ ttl: '1m', clock: new FakeClock() });

describe('getOrLoadMany', () => {
  it('answers hits from L1 and calls loadMany once with exactly the misses, in order', async () => {
    const cache = newCache();
    for (let i = 0; i < 10; i += 2) await cache.set(`k${i}`, `cached ${i}`);
    const calls: string[][] = [];
    const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
    const values = await cache.getOrLoadMany(keys, async (missing) => {
      calls.push(missing);
      return new Map(missing.map((key) => [key, `loaded ${key.slice(1)}`]));
    });
    assert.deepEqual(calls, [['k1', 'k3', 'k5', 'k7', 'k9']]);
    assert.deepEqual(
      values,
      keys.map((_, i) => (i % 2 === 0 ? `cached ${i}` : `loaded ${i}`)),
    );
    assert.equal(await cache.get('k3'), 'loaded 3', 'loaded values are cached');
    assert.equal(cache.stats().loads, 1);
  });

  it('accepts a plain object, leaves out what the loader did not find, and dedupes keys', async () => {
    const cache = newCache();
    let seen: string[] = [];
    const values = await cache.getOrLoadMany(['a', 'b', 'a'], async (missing) => {
      seen = missing;
      return { a: 1 };
    });
    assert.deepEqual(seen, ['a', 'b']);
    assert.deepEqual(values, [1, undefined, 1]);
    assert.equal(await cache.has('b'), false);
  });

  it('shares single-flight with getOrLoad in both directions', async () => {
    const cache = newCache();
    const gate = deferred<string>();
    let singleLoads = 0;
    const single = cache.getOrLoad('x', () => {
      singleLoads++;
      return gate.promise;
    });
    const batchGate = deferred<Map<string, string>>();
    let batchKeys: string[] = [];
    const batch = cache.getOrLoadMany(['x', 'y'], (missing) => {
      batchKeys = missing;
      return batchGate.promise;
    });
    const joiner = cache.getOrLoad('y', () => 'never called');
    gate.resolve('x from getOrLoad');
    batchGate.resolve(new Map([['y', 'y from batch']]));
    assert.deepEqual(await batch, ['x from getOrLoad', 'y from batch']);
    assert.equal(await single, 'x from getOrLoad');
    assert.equal(await joiner, 'y from batch');
    assert.deepEqual(batchKeys, ['y']);
    assert.equal(singleLoads, 1);
  });

  it('rejects every key of a failed batch with a LoaderError, caching nothing', async () => {
    const cache = newCache();
    await assert.rejects(
      cache.getOrLoadMany(['a', 'b'], async () => {
        throw new Error('db down');
      }),
      (error: unknown) => error instanceof LoaderError && /db down/.test(error.message),
    );
    assert.equal(await cache.has('a'), false);
    assert.deepEqual(await cache.getOrLoadMany(['a'], async () => ({ a: 'ok' })), ['ok']);
  });
});
