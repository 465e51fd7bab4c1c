import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CacheClosedError,
  ConfigError,
  createCache,
  InvalidValueError,
  type LoaderContext,
  LoaderError,
  ValueTooLargeError,
} from '../../src/index.js';
import { seededRandom } from '../../workload/random.js';
import { deferred, FakeClock } from '../helpers/fake-clock.js';

const newCache = (extra: Partial<Parameters<typeof createCache>[0]> = {}) => {
  const clock = new FakeClock();
  const cache = createCache({ ttl: 1000, clock, random: seededRandom(1), ...extra });
  return { cache, clock };
};

describe('getOrLoad', () => {
  it('loads on a miss, then serves from the cache until the TTL ends', async () => {
    const { cache, clock } = newCache();
    let loads = 0;
    const loader = () => ++loads;
    assert.equal(await cache.getOrLoad('k', loader), 1);
    assert.equal(await cache.getOrLoad('k', loader), 1);
    clock.advance(999);
    assert.equal(await cache.getOrLoad('k', loader), 1);
    clock.advance(1);
    assert.equal(await cache.getOrLoad('k', loader), 2);
    const stats = cache.stats();
    assert.equal(stats.loads, 2);
    assert.equal(stats.hits, 2);
    assert.equal(stats.misses, 2);
    assert.equal(stats.hitRate, 0.5);
    assert.equal(stats.l1?.expirations, 1);
  });

  it('runs the loader exactly once for 1,000 concurrent callers, and every caller gets its value', async () => {
    const { cache } = newCache();
    const gate = deferred<{ id: number }>();
    let loads = 0;
    const callers = Array.from({ length: 1000 }, () =>
      cache.getOrLoad('hot', () => {
        loads++;
        return gate.promise;
      }),
    );
    assert.equal(cache.stats().inFlight, 1);
    gate.resolve({ id: 7 });
    const values = await Promise.all(callers);
    assert.equal(loads, 1);
    assert.ok(values.every((value) => value === values[0] && value.id === 7));
    assert.equal(cache.stats().collapsed, 999);
    assert.equal(cache.stats().inFlight, 0);
  });

  it('rejects every waiter with a LoaderError carrying the cause, caches nothing, and retries next time', async () => {
    const { cache } = newCache();
    const cause = new Error('database down');
    const gate = deferred<number>();
    let loads = 0;
    const callers = Array.from({ length: 50 }, () =>
      cache.getOrLoad('k', () => {
        loads++;
        return gate.promise;
      }),
    );
    gate.reject(cause);
    const results = await Promise.allSettled(callers);
    assert.equal(loads, 1);
    for (const result of results) {
      assert.equal(result.status, 'rejected');
      const error = (result as PromiseRejectedResult).reason;
      assert.ok(error instanceof LoaderError);
      assert.equal(error.cause, cause);
      assert.equal(error.key, 'k');
      assert.equal(error.code, 'ERR_TIERCACHE_LOADER');
      assert.match(error.message, /database down/);
    }
    assert.equal(await cache.has('k'), false);
    assert.equal(cache.stats().loadErrors, 1);
    assert.equal(await cache.getOrLoad('k', () => 42), 42);
    assert.equal(await cache.get('k'), 42);
  });

  it('wraps a synchronous throw in a LoaderError too', async () => {
    const { cache } = newCache();
    await assert.rejects(
      cache.getOrLoad('k', () => {
        throw new TypeError('boom');
      }),
      (error: unknown) => error instanceof LoaderError && error.cause instanceof TypeError,
    );
  });

  it('caches nothing when the loader returns undefined', async () => {
    const { cache } = newCache();
    let loads = 0;
    assert.equal(
      await cache.getOrLoad('k', () => {
        loads++;
        return undefined;
      }),
      undefined,
    );
    assert.equal(
      await cache.getOrLoad('k', () => {
        loads++;
        return undefined;
      }),
      undefined,
    );
    assert.equal(loads, 2);
    assert.equal(await cache.has('k'), false);
  });

  it('caches null (negative caching) for nullTtl', async () => {
    const { cache, clock } = newCache({ nullTtl: 100 });
    let loads = 0;
    const loader = () => {
      loads++;
      return null;
    };
    assert.equal(await cache.getOrLoad('missing-row', loader), null);
    clock.advance(99);
    assert.equal(await cache.getOrLoad('missing-row', loader), null);
    assert.equal(loads, 1);
    clock.advance(1);
    await cache.getOrLoad('missing-row', loader);
    assert.equal(loads, 2);
  });

  it('returns a value over maxEntryBytes to the caller without caching it, and counts it', async () => {
    const { cache } = newCache({ maxEntryBytes: 1000 });
    const big = 'x'.repeat(2000);
    let loads = 0;
    assert.equal(
      await cache.getOrLoad('big', () => {
        loads++;
        return big;
      }),
      big,
    );
    assert.equal(
      await cache.getOrLoad('big', () => {
        loads++;
        return big;
      }),
      big,
    );
    assert.equal(loads, 2);
    assert.equal(cache.stats().refusedTooLarge, 2);
    assert.equal(await cache.has('big'), false);
  });

  it('gives the loader its key, an AbortSignal and setTtl for an adaptive TTL', async () => {
    const { cache, clock } = newCache();
    let seen: LoaderContext | undefined;
    await cache.getOrLoad('short-lived', (context) => {
      seen = context;
      context.setTtl('50ms');
      return 'v';
    });
    assert.equal(seen?.key, 'short-lived');
    assert.ok(seen?.signal instanceof AbortSignal);
    assert.equal(seen?.signal.aborted, false);
    clock.advance(49);
    assert.equal(await cache.get('short-lived'), 'v');
    clock.advance(1);
    assert.equal(await cache.get('short-lived'), undefined);
  });

  it('reports an invalid setTtl as the loader failing with a ConfigError cause', async () => {
    const { cache } = newCache();
    await assert.rejects(
      cache.getOrLoad('k', (context) => {
        context.setTtl(Number.POSITIVE_INFINITY);
        return 1;
      }),
      (error: unknown) => error instanceof LoaderError && error.cause instanceof ConfigError,
    );
  });

  it('lets per-call options override the cache TTL', async () => {
    const { cache, clock } = newCache();
    await cache.getOrLoad('k', () => 'v', { ttl: '10s' });
    clock.advance(5000);
    assert.equal(await cache.get('k'), 'v');
    clock.advance(5000);
    assert.equal(await cache.get('k'), undefined);
  });

  it('spreads TTLs by ±ttlJitter', async () => {
    const { cache, clock } = newCache({ ttl: 10_000, ttlJitter: 0.2 });
    for (let i = 0; i < 200; i++) await cache.set(`k${i}`, i);
    clock.advance(7999);
    for (let i = 0; i < 200; i++) assert.equal(await cache.has(`k${i}`), true, 'nothing expires before ttl × 0.8');
    clock.advance(2002);
    let alive = 0;
    for (let i = 0; i < 200; i++) if (await cache.has(`k${i}`)) alive++;
    assert.ok(alive > 40 && alive < 160, `about half should outlive the plain TTL, got ${alive}`);
    clock.advance(2000);
    for (let i = 0; i < 200; i++) assert.equal(await cache.has(`k${i}`), false, 'everything expires by ttl × 1.2');
  });

  it('does not store a load that a delete overtook (the stale-set race, in process)', async () => {
    const { cache } = newCache();
    const gate = deferred<string>();
    const reader = cache.getOrLoad('row', () => gate.promise);
    await cache.delete('row'); // a writer updated the database and invalidated while the read was loading
    gate.resolve('old row');
    assert.equal(await reader, 'old row', 'the reader that asked before the write still gets an answer');
    assert.equal(await cache.has('row'), false, 'but the old row is not cached');
    assert.equal(cache.stats().superseded, 1);
  });

  it('does not let a slow load overwrite a newer set', async () => {
    const { cache } = newCache();
    const gate = deferred<string>();
    const reader = cache.getOrLoad('row', () => gate.promise);
    await cache.set('row', 'new');
    gate.resolve('old');
    await reader;
    assert.equal(await cache.get('row'), 'new');
  });

  it('rejects a loader that is not a function', async () => {
    const { cache } = newCache();
    await assert.rejects(cache.getOrLoad('k', 'nope' as never), ConfigError);
  });
});

describe('writes and reads', () => {
  it('set, get, has, delete', async () => {
    const { cache } = newCache();
    await cache.set('k', { v: 1 });
    assert.deepEqual(await cache.get('k'), { v: 1 });
    assert.equal(await cache.has('k'), true);
    assert.equal(await cache.delete('k'), true);
    assert.equal(await cache.delete('k'), false);
    assert.equal(await cache.get('k'), undefined);
  });

  it('refuses to set undefined', async () => {
    const { cache } = newCache();
    await assert.rejects(cache.set('k', undefined), InvalidValueError);
  });

  it('refuses an oversized set and drops the older value, so nothing stale stays behind', async () => {
    const { cache } = newCache({ maxEntryBytes: 100 });
    await cache.set('k', 'small');
    await assert.rejects(cache.set('k', 'x'.repeat(500)), (error: unknown) => {
      assert.ok(error instanceof ValueTooLargeError);
      assert.equal(error.limit, 100);
      assert.ok(error.bytes > 100);
      assert.match(error.message, /raise `maxEntryBytes`/);
      return true;
    });
    assert.equal(await cache.has('k'), false);
  });

  it('hands out references by default and clones with copyOnRead', async () => {
    const shared = newCache().cache;
    const original = { n: 1 };
    await shared.set('k', original);
    assert.equal(await shared.get('k'), original);

    const copying = newCache({ copyOnRead: true }).cache;
    await copying.set('k', original);
    original.n = 2;
    const first = await copying.get<{ n: number }>('k');
    assert.deepEqual(first, { n: 1 });
    (first as { n: number }).n = 3;
    assert.deepEqual(await copying.getOrLoad('k', () => ({ n: 9 })), { n: 1 });
    const loaded = await Promise.all([
      copying.getOrLoad('j', () => ({ n: 5 })),
      copying.getOrLoad('j', () => ({ n: 6 })),
    ]);
    assert.notEqual(loaded[0], loaded[1], 'concurrent waiters get their own copies');
    assert.deepEqual(loaded, [{ n: 5 }, { n: 5 }]);
  });

  it('refuses an uncloneable value under copyOnRead', async () => {
    const { cache } = newCache({ copyOnRead: true });
    await assert.rejects(cache.set('k', { fn: () => 1 }), InvalidValueError);
  });

  it('uses a custom weigher for maxEntryBytes and l1.maxBytes', async () => {
    // An entry costs its value's weight plus 128 bytes and its key's length: 10 + 128 + 3 for k00…k19.
    const { cache } = newCache({ weigher: () => 10, l1: { maxBytes: 5 * 141 } });
    for (let i = 0; i < 20; i++) await cache.set(`k${String(i).padStart(2, '0')}`, 'x'.repeat(10_000));
    assert.equal(cache.stats().l1?.bytes, 5 * 141);
    assert.equal(cache.stats().l1?.entries, 5);
    const broken = newCache({ weigher: () => Number.NaN }).cache;
    await assert.rejects(broken.set('k', 1), /weigher returned NaN/);
  });

  it('works without an L1 (every read loads, single-flight still collapses)', async () => {
    const { cache } = newCache({ l1: false });
    let loads = 0;
    const gate = deferred<number>();
    const both = Promise.all([
      cache.getOrLoad('k', () => {
        loads++;
        return gate.promise;
      }),
      cache.getOrLoad('k', () => {
        loads++;
        return gate.promise;
      }),
    ]);
    gate.resolve(1);
    assert.deepEqual(await both, [1, 1]);
    assert.equal(loads, 1);
    assert.equal(await cache.get('k'), undefined);
    assert.equal(cache.stats().l1, undefined);
  });
});

describe('namespaces', () => {
  it('isolates keys between the root and namespaces, and between namespaces', async () => {
    const { cache } = newCache();
    const users = cache.namespace('users');
    const menus = cache.namespace('menus');
    await cache.set('1', 'root');
    await users.set('1', 'user');
    await menus.set('1', 'menu');
    await menus.namespace('v2').set('1', 'menu v2');
    assert.equal(await cache.get('1'), 'root');
    assert.equal(await users.get('1'), 'user');
    assert.equal(await menus.get('1'), 'menu');
    assert.equal(await menus.namespace('v2').get('1'), 'menu v2');
  });

  it('clears one namespace and leaves the others', async () => {
    const { cache } = newCache();
    const users = cache.namespace('users');
    const menus = cache.namespace('menus');
    for (let i = 0; i < 10; i++) {
      await users.set(`${i}`, i);
      await menus.set(`${i}`, i);
      await cache.set(`${i}`, i);
    }
    await users.clear();
    for (let i = 0; i < 10; i++) {
      assert.equal(await users.has(`${i}`), false);
      assert.equal(await menus.get(`${i}`), i);
      assert.equal(await cache.get(`${i}`), i);
    }
    await cache.clear();
    assert.equal(cache.stats().l1?.entries, 0);
  });

  it('does not let a load that a clear overtook fill the cleared namespace', async () => {
    const { cache } = newCache();
    const users = cache.namespace('users');
    const gate = deferred<string>();
    const reader = users.getOrLoad('1', () => gate.promise);
    await users.clear();
    gate.resolve('before clear');
    await reader;
    assert.equal(await users.has('1'), false);
  });

  it('refuses an empty namespace name', () => {
    const { cache } = newCache();
    assert.throws(() => cache.namespace(''), ConfigError);
  });
});

describe('close', () => {
  it('aborts loads in flight, drops the L1 and refuses further calls', async () => {
    const { cache } = newCache();
    await cache.set('k', 1);
    let signal: AbortSignal | undefined;
    const gate = deferred<number>();
    const pending = cache.getOrLoad('slow', (context) => {
      signal = context.signal;
      return gate.promise;
    });
    await cache.close();
    assert.equal(signal?.aborted, true);
    assert.ok(signal?.reason instanceof CacheClosedError);
    gate.resolve(5);
    assert.equal(await pending, 5);
    await assert.rejects(cache.get('k'), CacheClosedError);
    await assert.rejects(
      cache.getOrLoad('k', () => 1),
      CacheClosedError,
    );
    await assert.rejects(cache.set('k', 1), CacheClosedError);
    await assert.rejects(cache.clear(), CacheClosedError);
    await cache.close(); // idempotent
  });
});
