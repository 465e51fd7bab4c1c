import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  type Cache,
  type CacheOptions,
  createCache,
  createRedisTier,
  InvalidValueError,
  type RedisClient,
  type RedisClusterClient,
  type RedisTier,
} from '../../src/index.js';
import { redisKey } from '../../src/redis/key-layout.js';
import { connectCluster, connectRedis } from '../helpers/clients.js';
import { eventually } from '../helpers/eventually.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { RedisCluster, RedisServer } from '../helpers/redis-server.js';

/** Two application instances sharing one L2, each with its own L1 and clock. */
function instances(l2: RedisTier, start = 1_000_000) {
  const clockA = new FakeClock(start);
  const clockB = new FakeClock(start);
  const a = createCache({ ttl: '10s', clock: clockA, l2 });
  const b = createCache({ ttl: '10s', clock: clockB, l2 });
  return { a, b, clockA, clockB };
}

function counting<T>(value: T): { loader: () => Promise<T>; calls: () => number } {
  let calls = 0;
  return {
    loader: async () => {
      calls++;
      return value;
    },
    calls: () => calls,
  };
}

describe('cache over a shared Redis tier (standalone)', () => {
  let server: RedisServer;
  let client: RedisClient;
  let l2: RedisTier;

  before(async () => {
    server = await RedisServer.start();
    client = await connectRedis(server.url);
    l2 = createRedisTier({ client, timeout: '200ms', breakerFailures: 3, breakerOpen: '200ms' });
  });
  beforeEach(async () => {
    await server.cli('FLUSHDB'); // test isolation only; the library itself never flushes
  });
  after(async () => {
    await l2.close();
    client.destroy();
    await server.stop();
  });

  it('serves a second instance from L2: one database load for both', async () => {
    const { a, b } = instances(l2);
    const menu = counting({ id: 1, dishes: ['pho'] });
    assert.deepEqual(await a.getOrLoad('menu:1', menu.loader), { id: 1, dishes: ['pho'] });
    assert.deepEqual(await b.getOrLoad('menu:1', menu.loader), { id: 1, dishes: ['pho'] });
    assert.equal(menu.calls(), 1);
    const stats = b.stats();
    assert.deepEqual([stats.hits, stats.misses, stats.loads, stats.l2?.hits], [1, 0, 0, 1]);
    assert.equal(await b.getOrLoad('menu:1', menu.loader).then(() => b.stats().l1?.hits), 1, 'now from its L1');
  });

  it('counts every caller of a flight: joiners of an L2 hit are hits, joiners of a load are misses', async () => {
    const { a, b } = instances(l2);
    const menu = counting('v');
    await a.getOrLoad('in-l2', menu.loader);
    await Promise.all(Array.from({ length: 10 }, () => b.getOrLoad('in-l2', menu.loader)));
    await Promise.all(Array.from({ length: 5 }, () => b.getOrLoad('cold', menu.loader)));
    const stats = b.stats();
    assert.deepEqual(
      [stats.l2?.hits, stats.misses, stats.missCauses.cold, stats.collapsed, stats.loads],
      [10, 5, 5, 13, 1],
    );
  });

  it('fills L1 from L2 for the remaining TTL only: an L1 copy never outlives its source', async () => {
    const { a, b, clockB } = instances(l2);
    const menu = counting('v');
    await a.getOrLoad('k', menu.loader); // written at T, expires at T + 10 s
    clockB.advance(4000);
    await b.getOrLoad('k', menu.loader); // B copies it at T + 4 s: 6 s left
    clockB.advance(5999);
    await b.getOrLoad('k', menu.loader);
    assert.equal(menu.calls(), 1, 'still fresh at T + 9.999 s');
    clockB.advance(1);
    await b.getOrLoad('k', menu.loader);
    assert.equal(menu.calls(), 2, 'expired everywhere at T + 10 s');
  });

  it('a delete reaches L2, so another instance without an L1 copy loads afresh', async () => {
    const { a, b } = instances(l2);
    const menu = counting('v1');
    await a.getOrLoad('k', menu.loader);
    await a.delete('k');
    assert.equal(await server.cli('EXISTS', redisKey('tiercache:', 'k')), '0');
    await b.getOrLoad('k', menu.loader);
    assert.equal(menu.calls(), 2);
  });

  it('reads garbage bytes under a cache key as a counted miss, loads, and overwrites them', async () => {
    const cache = createCache({ ttl: '10s', l2 });
    await server.cli('SET', redisKey('tiercache:', 'k'), 'not an envelope');
    const corruptBefore = l2.counters.corrupt;
    const menu = counting('fresh');
    assert.equal(await cache.getOrLoad('k', menu.loader), 'fresh');
    // Read twice: the flight's lookup, and the lock holder's look-again; one miss for the caller.
    assert.equal(l2.counters.corrupt, corruptBefore + 2);
    assert.equal(cache.stats().misses, 1);
    assert.match(await server.cli('GET', redisKey('tiercache:', 'k')), /^\[2,.*"fresh"\]$/);
  });

  it('refuses to set a value the shared tier cannot hold, and keeps no copy anywhere', async () => {
    const cache = createCache({ ttl: '10s', l2 });
    class Menu {}
    await assert.rejects(cache.set('k', { menu: new Menu() }), InvalidValueError);
    assert.equal(await cache.has('k'), false);
    assert.equal(cache.stats().l2?.refused, 1);
  });

  it('survives Redis dying mid-load: zero errors reach callers, the breaker opens, and it recovers', async () => {
    const cache = createCache({ ttl: '10s', l2 });
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    const loads = Array.from({ length: 40 }, (_, i) =>
      cache.getOrLoad(`k${i}`, async () => {
        await gate;
        return i;
      }),
    );
    await server.kill();
    open();
    const values = await Promise.all(loads);
    assert.deepEqual(
      values,
      Array.from({ length: 40 }, (_, i) => i),
    );
    const more = await Promise.all(Array.from({ length: 40 }, (_, i) => cache.getOrLoad(`j${i}`, async () => -i)));
    assert.equal(more.length, 40);
    assert.ok((cache.stats().l2?.errors ?? 0) > 0);
    assert.equal(l2.breakerState, 'open');

    await server.restart();
    let recovered = false;
    for (let i = 0; i < 30 && !recovered; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const errors = cache.stats().l2?.errors ?? 0;
      await cache.set(`probe${i}`, i);
      recovered =
        (cache.stats().l2?.errors ?? 0) === errors &&
        (await server.cli('EXISTS', redisKey('tiercache:', `probe${i}`))) === '1';
    }
    assert.ok(recovered, 'writes reach Redis again once it is back');
  });
});

describe('cache over a shared Redis Cluster', () => {
  let cluster: RedisCluster;
  let client: RedisClusterClient;
  let a: Cache;
  let b: Cache;
  let l2: RedisTier;

  before(async () => {
    cluster = await RedisCluster.start(3);
    client = await connectCluster(cluster.urls);
    l2 = createRedisTier({ client });
    a = createCache({ ttl: '1m', l2 });
    b = createCache({ ttl: '1m', l2 });
  });
  after(async () => {
    await l2.close();
    client.destroy();
    await cluster.stop();
  });

  it('shares loads between instances for keys on every master, and clears a namespace everywhere', async () => {
    const menu = counting('v');
    for (let i = 0; i < 60; i++) await a.namespace('menus').getOrLoad(`${i}`, menu.loader);
    for (let i = 0; i < 60; i++) await b.namespace('menus').getOrLoad(`${i}`, menu.loader);
    assert.equal(menu.calls(), 60);
    assert.equal(b.stats().l2?.hits, 60);
    await a.namespace('menus').clear();
    // No value is left on any master (versions stay: a clear must not reset them, see key-layout.ts).
    const values = await Promise.all(cluster.servers.map(async (s) => await s.cli('KEYS', 'tiercache:d:*')));
    assert.deepEqual(values, ['', '', '']);
  });

  it('invalidates a tag whose keys live on every master', async () => {
    const menus = a.namespace('tagged');
    for (let i = 0; i < 30; i++) await menus.set(`m${i}`, i, { tags: ['restaurant:9'] });
    await menus.set('other', 'kept', { tags: ['restaurant:10'] });
    assert.equal(await b.namespace('tagged').invalidateTags(['restaurant:9']), 30);
    for (let i = 0; i < 30; i++) assert.equal(await b.namespace('tagged').get(`m${i}`), undefined);
    assert.equal(await b.namespace('tagged').get('other'), 'kept');
  });

  it('getOrLoadMany of 100 keys with 30 misses: one loadMany call with exactly the 30 misses', async () => {
    const products = a.namespace('products');
    const keys = Array.from({ length: 100 }, (_, i) => `p${i}`);
    const missing = new Set(keys.filter((_, i) => i % 10 < 3));
    for (const key of keys) if (!missing.has(key)) await products.set(key, `stored ${key}`);
    const fresh = b.namespace('products'); // another instance: nothing in its L1, all 70 in L2
    const calls: string[][] = [];
    const values = await fresh.getOrLoadMany(keys, async (batch) => {
      calls.push(batch);
      return new Map(batch.map((key) => [key, `loaded ${key}`]));
    });
    assert.equal(calls.length, 1);
    assert.deepEqual(new Set(calls[0]), missing);
    assert.equal(calls[0]?.length, 30);
    assert.deepEqual(
      values,
      keys.map((key) => (missing.has(key) ? `loaded ${key}` : `stored ${key}`)),
    );
  });
});

describe('invalidation bus', () => {
  let server: RedisServer;
  const clients: RedisClient[] = [];
  const tiers: RedisTier[] = [];

  /** An instance with its own connection (and so its own bus), as a separate process would have. */
  function instance(options: Partial<CacheOptions> = {}): Cache {
    const tier = createRedisTier({ client: server.url, timeout: '200ms', breakerFailures: 2, breakerOpen: '100ms' });
    tiers.push(tier);
    return createCache({ ttl: '1m', l2: tier, ...options });
  }

  before(async () => {
    server = await RedisServer.start();
  });
  after(async () => {
    for (const tier of tiers) await tier.close();
    for (const client of clients) client.destroy();
    await server.stop();
  });

  it('reaches another cache that shares the same tier in one process, but not the writer itself', async () => {
    const client = await connectRedis(server.url);
    const tier = createRedisTier({ client });
    clients.push(client);
    tiers.push(tier);
    const a = createCache({ ttl: '1m', l2: tier });
    const b = createCache({ ttl: '1m', l2: tier });
    await b.getOrLoad('k', async () => 'v1');
    await a.set('k', 'v2');
    await eventually(async () => (await b.get('k')) === 'v2', 'b drops its copy');
    assert.equal(a.stats().bus?.received, 0);
    assert.equal(b.stats().bus?.received, 1);
  });

  it('drops the whole L1 on a sequence gap: a lost invalidation is never served', async () => {
    const a = instance();
    await a.getOrLoad('k', async () => 'v1');
    await eventually(() => a.stats().l1?.entries === 1, 'a caches k');
    // Another instance's messages 1 and 3 arrive; number 2 (which might have named 'k') was lost.
    await server.cli('PUBLISH', 'tiercache:bus', JSON.stringify({ i: 'elsewhere', s: 1, o: 'd', k: 'other' }));
    await server.cli('PUBLISH', 'tiercache:bus', JSON.stringify({ i: 'elsewhere', s: 3, o: 'd', k: 'other' }));
    await eventually(() => a.stats().bus?.gaps === 1, 'a sees the gap');
    assert.equal(a.stats().l1?.entries, 0);
  });

  it('invalidateTags on one instance removes tagged keys written by any instance, from L2 and every L1', async () => {
    const a = instance();
    const b = instance();
    await a.set('menu:7', 'seven', { tags: ['restaurant:7'] });
    await b.getOrLoad('dish:70', async ({ setTags }) => {
      setTags(['restaurant:7']);
      return 'soup';
    });
    await b.set('menu:8', 'eight', { tags: ['restaurant:8'] });
    assert.equal(await b.get('menu:7'), 'seven'); // b holds a's write in its L1 now
    assert.equal(await a.get('dish:70'), 'soup');
    // a knows menu:7 from its own index and dish:70 only from Redis's.
    assert.equal(await a.invalidateTags(['restaurant:7']), 2);
    await eventually(async () => (await b.get('menu:7')) === undefined, "b drops a's tagged key");
    assert.equal(await b.get('dish:70'), undefined);
    assert.equal(await a.get('dish:70'), undefined);
    assert.equal(await server.cli('EXISTS', redisKey('tiercache:', 'dish:70')), '0');
    assert.equal(await a.get('menu:8'), 'eight', 'another tag is untouched');
  });

  it('expire on one instance leaves the others their copy as a stale fallback, not a hole', async () => {
    const a = instance({ grace: '1h' });
    const b = instance({ grace: '1h' });
    assert.equal(await b.getOrLoad('kept', async () => 'v1'), 'v1');
    await a.expire('kept');
    await eventually(() => (b.stats().bus?.received ?? 0) >= 1, 'b hears of the expiry');
    // Even with the shared copy gone, b's own stale copy answers while the database fails.
    await server.cli('DEL', redisKey('tiercache:', 'kept'));
    let loads = 0;
    const failing = async () => {
      loads++;
      throw new Error('database down');
    };
    assert.equal(await b.getOrLoad('kept', failing), 'v1');
    assert.equal(loads, 1, 'the expired copy is not fresh: b tried the database first');
    assert.equal(b.stats().freshness.staleServed, 1);
  });

  it('after Redis returns, an instance that missed invalidations does not serve them', async () => {
    const a = instance();
    const b = instance();
    let database = 'v1';
    const loader = async () => database;
    assert.equal(await a.getOrLoad('menu', loader), 'v1'); // a holds v1 in its L1
    await server.kill();
    database = 'v2';
    await b.set('menu', 'v2'); // L2 is down: counted; its invalidation waits in b's queue
    assert.ok((b.stats().l2?.errors ?? 0) > 0);
    await server.restart();
    await eventually(() => (a.stats().bus?.gaps ?? 0) >= 1, 'a notices it was cut off');
    assert.equal(await a.getOrLoad('menu', loader), 'v2');
  });
});
