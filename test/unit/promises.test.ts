/**
 * Regression tests for promises that broke under hostile input, races and bounded resources, each named
 * after what it pins (they failed on the code before the fix). The network and Redis faults are in
 * test/faults/.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MAX_NAMESPACE_COUNTERS } from '../../src/cache/namespace-counters.js';
import { NAMESPACE_COUNTERS } from '../../src/cache.js';
import { encodeEnvelope } from '../../src/entry.js';
import {
  ConfigError,
  createCache,
  InvalidKeyError,
  InvalidValueError,
  LoaderError,
  OverloadedError,
  TimeoutError,
} from '../../src/index.js';
import { seededRandom } from '../../workload/random.js';
import { deferred, FakeClock } from '../helpers/fake-clock.js';
import { memorySharedTier } from '../helpers/memory-shared-tier.js';

/** Heap in use after full collections (the test runner does not pass --expose-gc; this exposes it). */
async function settledHeap(): Promise<number> {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  return process.memoryUsage().heapUsed;
}

const newCache = (extra: Partial<Parameters<typeof createCache>[0]> = {}) => {
  const clock = new FakeClock();
  const cache = createCache({ ttl: 1000, clock, random: seededRandom(7), ...extra });
  return { cache, clock };
};

describe('getOrLoadMany follows the read path of getOrLoad for every key', () => {
  it('does not serve a value past its TTL (within grace) as a fresh hit', async () => {
    const { cache, clock } = newCache({ grace: '1h' });
    await cache.set('a', 'old');
    clock.advance(1500);
    const values = await cache.getOrLoadMany(['a'], async () => new Map([['a', 'new']]));
    assert.deepEqual(values, ['new']);
  });

  it('does not serve a value after expire() as a fresh hit', async () => {
    const { cache } = newCache({ grace: '1h' });
    await cache.set('a', 'old');
    await cache.expire('a');
    assert.deepEqual(await cache.getOrLoadMany(['a'], async () => ({ a: 'new' })), ['new']);
  });

  it('serves the stale copy when loadMany fails (fail-safe), and a LoaderError without one', async () => {
    const { cache, clock } = newCache({ grace: '1h' });
    await cache.set('a', 'old');
    clock.advance(1500);
    const failing = async () => {
      throw new Error('database down');
    };
    assert.deepEqual(await cache.getOrLoadMany(['a'], failing), ['old']);
    await assert.rejects(cache.getOrLoadMany(['b'], failing), LoaderError);
  });

  it('bounds the wait by hardTimeout, and answers a stale key at softTimeout', async () => {
    const { cache, clock } = newCache({ grace: '1h', softTimeout: '20ms', hardTimeout: '60ms' });
    await cache.set('a', 'old');
    clock.advance(1500);
    const never = () => new Promise<Map<string, string>>(() => {});
    assert.deepEqual(await cache.getOrLoadMany(['a'], never), ['old']);
    await assert.rejects(cache.getOrLoadMany(['fresh'], never), TimeoutError);
  });

  it('respects maxConcurrentLoads', async () => {
    const { cache } = newCache({ maxConcurrentLoads: 1 });
    const gate = deferred<string>();
    const first = cache.getOrLoad('x', () => gate.promise);
    await assert.rejects(
      cache.getOrLoadMany(['y'], async () => ({ y: 1 })),
      OverloadedError,
    );
    gate.resolve('done');
    assert.equal(await first, 'done');
  });

  it('refuses an array from loadMany (it would cache the wrong record under a key)', async () => {
    const { cache } = newCache();
    const loadMany = (async () => [{ id: 'b' }, { id: 'a' }]) as unknown as () => Promise<Map<string, unknown>>;
    await assert.rejects(cache.getOrLoadMany(['0', '1'], loadMany), (error: unknown) => {
      assert.ok(error instanceof LoaderError);
      assert.match((error as Error).message, /array/);
      return true;
    });
    assert.equal(await cache.get('0'), undefined);
  });
});

describe('callers that join a load finishing in the background keep their time limits', () => {
  it('answers a late joiner with the stale copy at softTimeout, not when the slow load ends', async () => {
    const { cache, clock } = newCache({ grace: '1h', graceBackoff: 1, softTimeout: '20ms', hardTimeout: '5s' });
    await cache.set('k', 'old');
    clock.advance(1500);
    const slow = deferred<string>();
    let loadDone = false;
    const loader = () =>
      slow.promise.then((value) => {
        loadDone = true;
        return value;
      });
    assert.equal(await cache.getOrLoad('k', loader), 'old'); // soft timeout; the load goes on
    clock.advance(2); // past the 1 ms backoff: the next read misses the L1 again
    const late = await cache.getOrLoad('k', loader); // joins the background load
    assert.equal(late, 'old');
    assert.equal(loadDone, false, 'the joiner was answered while the load still ran');
    slow.resolve('new');
    await new Promise((resolve) => setImmediate(resolve));
  });

  it('fails a late joiner with TimeoutError at hardTimeout when there is no stale copy', async () => {
    const { cache } = newCache({ hardTimeout: '30ms', backgroundCompletion: true });
    const slow = deferred<string>();
    await assert.rejects(
      cache.getOrLoad('k', () => slow.promise),
      TimeoutError,
    );
    await assert.rejects(
      cache.getOrLoad('k', () => slow.promise),
      TimeoutError,
    );
    slow.resolve('v');
  });
});

describe('tags follow the key', () => {
  for (const shared of [false, true]) {
    const label = shared ? 'L1 + shared tier' : 'L1 only';
    it(`a key rewritten without a tag is not removed by that tag (${label})`, async () => {
      const { cache } = newCache(shared ? { l2: memorySharedTier().tier } : {});
      await cache.set('k', 'v1', { tags: ['red'] });
      await cache.set('k', 'v2', { tags: ['blue'] });
      assert.equal(await cache.invalidateTags(['red']), 0);
      assert.equal(await cache.get('k'), 'v2');
      await cache.set('k', 'v3');
      assert.equal(await cache.invalidateTags(['blue']), 0);
      assert.equal(await cache.get('k'), 'v3');
    });

    it(`a deleted key is not counted by its old tag (${label})`, async () => {
      const { cache } = newCache(shared ? { l2: memorySharedTier().tier } : {});
      await cache.set('k', 'v1', { tags: ['red'] });
      await cache.delete('k');
      await cache.set('k', 'v2');
      assert.equal(await cache.invalidateTags(['red']), 0);
      assert.equal(await cache.get('k'), 'v2');
    });
  }

  it("a root tag cannot name a namespace's tag", async () => {
    const { cache } = newCache();
    const users = cache.namespace('users');
    await users.set('k', 'v', { tags: ['x'] });
    assert.equal(await cache.invalidateTags(['\u00015:users|x']), 0);
    assert.equal(await users.get('k'), 'v');
    assert.equal(await users.invalidateTags(['x']), 1);
  });
});

describe('a read without a flight cannot undo an invalidation', () => {
  it('get(): a delete processed while its shared-tier read was out leaves no old copy in the L1', async () => {
    const { tier, entries } = memorySharedTier();
    const slow = deferred<void>();
    const get = tier.get;
    let holdReads = false;
    tier.get = async (key) => {
      const answer = await get(key); // what the tier held when the read was sent
      if (holdReads) await slow.promise;
      return answer;
    };
    const { cache } = newCache({ l2: tier });
    await cache.set('k', 'old');
    const other = newCache({ l2: tier }).cache; // its L1 misses, so its get() goes to the shared tier
    holdReads = true;
    const reading = other.get('k');
    await other.delete('k'); // the row changed: removed everywhere while the read is out
    holdReads = false;
    slow.resolve();
    assert.equal(await reading, 'old', 'the read answers what it read');
    assert.equal(entries.has('k'), false);
    assert.equal(await other.get('k'), undefined, 'and did not put the old value back into the L1');
  });
});

describe('fail-safe serves the newest stale copy', () => {
  it('prefers a newer stale copy in the shared tier over an older one in this L1', async () => {
    const { tier } = memorySharedTier();
    const clock = new FakeClock();
    const options = { ttl: 1000, grace: '1h', clock, l2: tier } as const;
    const a = createCache(options);
    const b = createCache(options);
    await a.set('k', 'older'); // A's L1 keeps this (the memory tier has no bus)
    clock.advance(500);
    await b.set('k', 'newer'); // the shared tier holds this
    clock.advance(2000); // both past their TTL, within grace
    const failing = async () => {
      throw new Error('database down');
    };
    assert.equal(await a.getOrLoad('k', failing), 'newer');
    assert.equal(await a.getOrLoad('k', failing), 'newer', 'and keeps serving it during the backoff');
  });
});

describe('keys are validated the same way on every method', () => {
  it('rejects a lone surrogate on get, has, delete, expire as on set', async () => {
    const { cache } = newCache({ l2: memorySharedTier().tier });
    await cache.set('\uFFFD', 'replacement character');
    for (const call of [
      () => cache.get('\uD800'),
      () => cache.has('\uD800'),
      () => cache.delete('\uD800'),
      () => cache.expire('\uD800'),
      () => cache.set('\uD800', 1),
      () => cache.getOrLoad('\uD800', () => 1),
      () => cache.getOrLoadMany(['\uD800'], async () => ({})),
    ]) {
      await assert.rejects(call(), InvalidKeyError);
    }
  });
});

describe('values that would not read back the same', () => {
  it('refuses a value with its own toJSON (the shared tier would store something else)', () => {
    const value = { id: 1, toJSON: () => 'something else' };
    assert.throws(() => encodeEnvelope('k', { value, expiresAt: 1, createdAt: 0, delta: 0 }, 1e6), InvalidValueError);
    assert.throws(
      () => encodeEnvelope('k', { value: { nested: [value] }, expiresAt: 1, createdAt: 0, delta: 0 }, 1e6),
      /toJSON/,
    );
  });

  it('copyOnRead: a shared-tier entry too deep to copy is read as a miss and loaded, never thrown', async () => {
    const { tier, entries } = memorySharedTier();
    const { cache } = newCache({ copyOnRead: true, l2: tier });
    const deep = JSON.parse(`${'['.repeat(6000)}${']'.repeat(6000)}`);
    entries.set('k', { value: deep, expiresAt: Number.MAX_SAFE_INTEGER, createdAt: 0, delta: 0 });
    assert.equal(await cache.getOrLoad('k', () => 'loaded'), 'loaded');
    assert.equal(cache.stats().l2?.unusable, 1);
  });

  it('copyOnRead: a loader value that cannot be copied is an InvalidValueError, not a raw DataCloneError', async () => {
    const { cache } = newCache({ copyOnRead: true });
    await assert.rejects(
      cache.getOrLoad('k', () => ({ fn: () => 1 })),
      InvalidValueError,
    );
  });
});

describe('bounded memory', () => {
  it('l1.maxBytes counts keys and per-entry overhead: long keys cannot grow the heap past 2× of it', async () => {
    const maxBytes = 1024 * 1024;
    const { cache } = newCache({ l1: { maxBytes } }); // defaults otherwise: stats, removal log, hot keys
    const pad = 'k'.repeat(1000);
    const before = await settledHeap();
    for (let i = 0; i < 100_000; i++) await cache.set(`${pad}${i}`, i);
    const growth = (await settledHeap()) - before;
    const stats = cache.stats().l1;
    assert.ok(stats !== undefined);
    assert.ok(stats.bytes <= maxBytes, `${stats.bytes} bytes held`);
    // Each entry costs ~1.1 KB (its key) here: about a thousand fit, not 131,072 (1 MiB / 8 bytes a value).
    assert.ok(stats.entries < 1024, `${stats.entries} entries`);
    assert.ok(growth < 2 * maxBytes, `heap grew ${(growth / 2 ** 20).toFixed(2)} MiB for a 1 MiB L1`);
  });

  it('namespace counters are bounded, and a/b is the namespace b inside a', async () => {
    const { cache } = newCache();
    for (let i = 0; i < 3000; i++) await cache.namespace(`tenant-${i}`).set('k', i);
    assert.equal(cache.stats().loads, 0);
    const labels = (cache as unknown as Record<typeof NAMESPACE_COUNTERS, () => ReadonlyMap<string, unknown>>)[
      NAMESPACE_COUNTERS
    ]();
    assert.equal(labels.size, MAX_NAMESPACE_COUNTERS + 1, 'every namespace past the bound shares one entry');
    assert.equal(cache.stats().l1?.entries, 3000, 'the root still sees every namespace');
    const nested = cache.namespace('x').namespace('y');
    await cache.namespace('x/y').set('k', 'same');
    assert.equal(await nested.get('k'), 'same');
    assert.equal(nested.stats().namespace, '/x/y');
    assert.throws(() => cache.namespace('x//y'), ConfigError);
    assert.throws(() => cache.namespace('/x'), ConfigError);
  });
});
