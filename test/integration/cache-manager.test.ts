/**
 * `tiercache/cache-manager` against cache-manager v7's documented behaviour. The compatibility suite runs
 * twice: on cache-manager itself (its default in-memory Keyv store) — which shows the suite says what
 * cache-manager does — and on a tiercache manager over real Redis. Then what only tiercache promises
 * (one load across instances, no stale set after a delete) and its deliberate differences.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type Cache as CacheManager, createCache as createCacheManagerReference } from 'cache-manager';
import { CacheClosedError, createCache, createRedisTier, InvalidValueError, type RedisTier } from '../../src/index.js';
import { cacheManagerModule, createCacheManager } from '../../src/integrations/cache-manager.js';
import { RedisServer } from '../helpers/redis-server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** How far behind `Date.now()` the cache's clock may read: it serves one reading while the event loop is busy. */
const SKEW = 50;

/** Polls until `read` gives `expected` (or 2 s pass), for what lands in the background. */
async function eventually(read: () => Promise<unknown>, expected: unknown): Promise<unknown> {
  const deadline = Date.now() + 2_000;
  let last = await read();
  while (last !== expected && Date.now() < deadline) {
    await sleep(5);
    last = await read();
  }
  return last;
}

let server: RedisServer;
let l2: RedisTier;
const tiers: RedisTier[] = [];
before(async () => {
  server = await RedisServer.start();
  l2 = createRedisTier({ client: server.url });
});
after(async () => {
  await Promise.all([l2, ...tiers].map((tier) => tier.close()));
  await server.stop();
});

/**
 * A tiercache manager as a process of its own would have it: its own connections, so another test's
 * `clear()` still crossing the bus cannot reach it (one Redis tier's subscriber serves every cache on it).
 */
function ownProcess(): CacheManager {
  const tier = createRedisTier({ client: server.url });
  tiers.push(tier);
  return createCacheManager(createCache({ ttl: '1h', l2: tier }));
}

const contenders: [string, () => CacheManager][] = [
  ['cache-manager itself (in-memory Keyv)', () => createCacheManagerReference()],
  ['tiercache over Redis', ownProcess],
];

for (const [name, make] of contenders) {
  describe(`cache-manager compatibility: ${name}`, () => {
    // Keys of their own per test: the tiercache managers share one Redis.
    const key = () => `k-${randomUUID()}`;

    it('set answers the value; get finds it, and undefined for a key never set', async () => {
      const manager = make();
      const k = key();
      assert.deepEqual(await manager.set(k, { id: 1, name: 'soup' }), { id: 1, name: 'soup' });
      assert.deepEqual(await manager.get(k), { id: 1, name: 'soup' });
      assert.equal(await manager.get(key()), undefined);
      await manager.disconnect();
    });

    it('a ttl in ms expires the key; ttl() is its expiry timestamp, undefined once gone', async () => {
      const manager = make();
      const k = key();
      const before = Date.now();
      await manager.set(k, 'v', 300);
      const expires = await manager.ttl(k);
      assert.ok(
        typeof expires === 'number' && expires >= before + 300 - SKEW && expires <= Date.now() + 300,
        `expires ${expires}`,
      );
      await sleep(400);
      assert.equal(await manager.get(k), undefined);
      assert.equal(await manager.ttl(k), undefined);
      await manager.disconnect();
    });

    it('mset answers the list; mget answers in order, undefined where missing; mdel and del answer true', async () => {
      const manager = make();
      const [a, b, c] = [key(), key(), key()];
      const list = await manager.mset<unknown>([
        { key: a, value: 1 },
        { key: b, value: 'two', ttl: 5_000 },
      ]);
      assert.deepEqual(
        list.map((entry) => [entry.key, entry.value]),
        [
          [a, 1],
          [b, 'two'],
        ],
      );
      assert.deepEqual(await manager.mget([a, c, b]), [1, undefined, 'two']);
      assert.equal(await manager.mdel([a, b]), true);
      assert.deepEqual(await manager.mget([a, b]), [undefined, undefined]);
      await manager.set(c, 3);
      assert.equal(await manager.del(c), true);
      assert.equal(await manager.get(c), undefined);
      await manager.disconnect();
    });

    it('clear answers true and empties the cache', async () => {
      const manager = make();
      const [a, b] = [key(), key()];
      await manager.set(a, 1);
      await manager.set(b, 2);
      assert.equal(await manager.clear(), true);
      assert.deepEqual(await manager.mget([a, b]), [undefined, undefined]);
      await manager.disconnect();
    });

    it('wrap runs the function once, then answers from the cache; ten callers at once, one run', async () => {
      const manager = make();
      const k = key();
      let runs = 0;
      const fn = async () => {
        runs++;
        await sleep(20);
        return `v${runs}`;
      };
      const answers = await Promise.all(Array.from({ length: 10 }, () => manager.wrap(k, fn)));
      assert.deepEqual(new Set(answers), new Set(['v1']));
      assert.equal(await manager.wrap(k, fn), 'v1');
      assert.equal(runs, 1);
      assert.equal(await manager.get(k), 'v1', 'wrap stored what it loaded');
      await manager.disconnect();
    });

    it('wrap takes a ttl as a number, an option, or a function of the loaded value (called once)', async () => {
      const manager = make();
      const [a, b, c] = [key(), key(), key()];
      const seen: unknown[] = [];
      await manager.wrap(a, () => 'a', 250);
      await manager.wrap(b, () => 'b', { ttl: 250 });
      await manager.wrap(
        c,
        () => 5,
        (value: number) => {
          seen.push(value);
          return value * 50;
        },
      );
      assert.deepEqual(seen, [5]);
      assert.deepEqual(await manager.mget([a, b, c]), ['a', 'b', 5]);
      await sleep(350);
      assert.deepEqual(await manager.mget([a, b, c]), [undefined, undefined, undefined]);
      await manager.wrap(
        c,
        () => 6,
        (value: number) => {
          seen.push(value);
          return value * 50;
        },
      );
      assert.deepEqual(seen, [5, 6]);
      await manager.disconnect();
    });

    it('wrap with raw: true answers { value, expires } loaded or cached', async () => {
      const manager = make();
      const k = key();
      const before = Date.now();
      const loaded = await manager.wrap(k, () => 'x', { ttl: 5_000, raw: true });
      assert.equal(loaded?.value, 'x');
      const expires = loaded?.expires ?? 0;
      assert.ok(expires >= before + 5_000 - SKEW && expires <= Date.now() + 5_000);
      const cached = await manager.wrap(k, () => 'y', { ttl: 5_000, raw: true });
      assert.equal(cached?.value, 'x');
      assert.equal(typeof cached?.expires, 'number');
      await manager.disconnect();
    });

    for (const form of ['positional', 'options', 'function'] as const) {
      it(`wrap's refreshThreshold (${form}): within it of expiry a call answers the cached value and reloads in the background`, async () => {
        const manager = make();
        const k = key();
        const call = (fn: () => Promise<number>) =>
          form === 'positional'
            ? manager.wrap(k, fn, 600, 300)
            : form === 'options'
              ? manager.wrap(k, fn, { ttl: 600, refreshThreshold: 300 })
              : manager.wrap(k, fn, 600, (value: number) => (value === 0 ? 300 : 100));
        const refreshes: unknown[] = [];
        manager.on('refresh', ({ key: refreshed, value }) => {
          if (refreshed === k) refreshes.push(value);
        });
        assert.equal(await call(async () => 0), 0);
        assert.equal(await call(async () => 1), 0, 'far from expiry: cached, no reload');
        await sleep(350); // 250 ms left: within the threshold
        assert.equal(await call(async () => 2), 0, 'the cached value, at once');
        assert.equal(await eventually(() => manager.get(k), 2), 2, 'the reload landed');
        assert.equal(await eventually(async () => refreshes.length, 1), 1);
        assert.deepEqual(refreshes, [2], 'one refresh event, with the new value');
        assert.equal(await call(async () => 3), 2);
        await manager.disconnect();
      });
    }

    it('what the function throws reaches the caller; nothing is cached, the next call runs it again', async () => {
      const manager = make();
      const k = key();
      const failure = new Error('database down');
      await assert.rejects(
        manager.wrap(k, () => {
          throw failure;
        }),
        (error) => error === failure,
      );
      assert.equal(await manager.get(k), undefined);
      assert.equal(await manager.wrap(k, () => 'back'), 'back');
      await manager.disconnect();
    });

    it('emits set, get (for a value found), del and clear with the key and value', async () => {
      const manager = make();
      const k = key();
      const seen: unknown[] = [];
      manager.on('set', ({ key: at, value }) => seen.push(['set', at, value]));
      manager.on('del', ({ key: at }) => seen.push(['del', at]));
      manager.on('clear', () => seen.push(['clear']));
      manager.on('get', ({ key: at, value }) => seen.push(['get', at, value]));
      await manager.get(k); // a miss: no event
      await manager.set(k, 1);
      await manager.get(k);
      await manager.del(k);
      await manager.clear();
      // (cache-manager also emits one `set` per store, with the store's name: the same key and value.)
      const distinct = [...new Set(seen.map((event) => JSON.stringify(event)))];
      assert.deepEqual(distinct, [`["set","${k}",1]`, `["get","${k}",1]`, `["del","${k}"]`, '["clear"]']);
      await manager.disconnect();
    });

    it('cacheId() answers an id of its own', async () => {
      const manager = make();
      assert.equal(typeof manager.cacheId(), 'string');
      assert.notEqual(manager.cacheId(), make().cacheId());
      await manager.disconnect();
    });
  });
}

describe('tiercache/cache-manager: what tiercache adds, and its deliberate differences', () => {
  it('wrap loads once across instances: two caches over one Redis, 2 × 50 callers, one run', async () => {
    const [one, two] = [ownProcess(), ownProcess()];
    let runs = 0;
    const fn = async () => {
      runs++;
      await sleep(50);
      return 'menu';
    };
    const answers = await Promise.all(
      Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? one : two).wrap('shared-menu', fn)),
    );
    assert.equal(runs, 1);
    assert.ok(answers.every((answer) => answer === 'menu'));
    await Promise.all([one.disconnect(), two.disconnect()]);
  });

  it('a del while wrap loads keeps the loaded value out of the cache (no stale set)', async () => {
    const manager = createCacheManager(createCache({ ttl: '1h', l2 }));
    let release!: () => void;
    const loading = manager.wrap(
      'edited',
      () => new Promise<string>((resolve) => (release = () => resolve('old row'))),
    );
    await sleep(20);
    await manager.del('edited'); // the row was edited and the key deleted while the old row was in flight
    release();
    assert.equal(await loading, 'old row', 'the caller who asked before the edit gets what it read');
    assert.equal(await manager.get('edited'), undefined, 'but it is not cached');
    await manager.disconnect();
  });

  it('every entry expires: no ttl (or 0) takes the manager default, else the cache default', async () => {
    const cache = createCache({ ttl: '1h', l2 });
    const manager = createCacheManager(cache, { ttl: 60_000, closeCache: false });
    const now = Date.now();
    await manager.set('defaulted', 1, 0);
    const expires = (await manager.ttl('defaulted')) as number;
    assert.ok(expires >= now + 60_000 - SKEW && expires <= Date.now() + 60_000, `expires ${expires - now} ms on`);
    const plain = createCacheManager(cache, { closeCache: false });
    await plain.set('cache-default', 1);
    assert.ok(((await plain.ttl('cache-default')) as number) > Date.now() + 3_000_000);
    await cache.close();
  });

  it('set(key, undefined) rejects with InvalidValueError; stores is empty; disconnect closes the cache', async () => {
    const cache = createCache({ ttl: '1h', l2 });
    const manager = createCacheManager(cache);
    await assert.rejects(manager.set('k', undefined), InvalidValueError);
    assert.deepEqual(manager.stores, []);
    await manager.disconnect();
    await assert.rejects(
      cache.getOrLoad('k', () => 1),
      CacheClosedError,
    );
    const errors: unknown[] = [];
    manager.on('get', ({ error }) => errors.push(error));
    assert.equal(await manager.get('k'), undefined, 'get never throws: the error is an event');
    assert.ok(errors[0] instanceof CacheClosedError);
  });

  it('cacheManagerModule is a global NestJS module providing CACHE_MANAGER', () => {
    const module = cacheManagerModule(createCache({ ttl: '1m' }));
    assert.equal(module.global, true);
    assert.deepEqual(module.exports, ['CACHE_MANAGER']);
    assert.equal(module.providers[0]?.provide, 'CACHE_MANAGER');
    assert.equal(typeof module.providers[0]?.useValue.wrap, 'function');
  });
});
