/**
 * The Memcached tier against real memcached processes: round trips, versions (CAS) against the
 * stale-set race, leases as the lock with fencing, hostile keys, oversized and corrupt values, clear by
 * generation, the gutter with its replay, a dead pool, bounded L1 staleness, and 4 processes × 2,500
 * callers on a cold key.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCache, createMemcachedTier, createRedisTier, type MemcachedTier } from '../../src/index.js';
import { eventually } from '../helpers/eventually.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { Instance } from '../helpers/instances.js';
import { MemcachedServer } from '../helpers/memcached-server.js';
import { RedisServer } from '../helpers/redis-server.js';
import { memcachedMissing, needs } from '../helpers/services.js';

const envelope = (value: unknown, ttlMs = 60_000) => ({
  value,
  expiresAt: Date.now() + ttlMs,
  createdAt: Date.now(),
  delta: 0,
});

describe('Memcached tier', needs(memcachedMissing), () => {
  let servers: MemcachedServer[];
  let tier: MemcachedTier;

  before(async () => {
    servers = await Promise.all([MemcachedServer.start(), MemcachedServer.start()]);
    tier = createMemcachedTier({ servers: servers.map((s) => s.address) });
  });
  after(async () => {
    await tier.close();
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('stores, reads and deletes an envelope; spreads keys over the pool', async () => {
    for (let i = 0; i < 50; i++) await tier.set(`k${i}`, envelope({ i }), 60_000);
    for (let i = 0; i < 50; i++) assert.deepEqual((await tier.get(`k${i}`))?.value, { i });
    await tier.delete('k0');
    assert.equal(await tier.get('k0'), undefined, 'a deleted key is a miss (its tombstone is not a value)');
    const items = await Promise.all(servers.map((s) => s.command('stats')));
    const counts = items.map((stats) => Number(/STAT curr_items (\d+)/.exec(stats)?.[1]));
    assert.ok(
      counts.every((n) => n > 5),
      `both servers hold keys: ${counts.join(', ')}`,
    );
  });

  it('refuses a load whose version moved: a delete (even of an absent key) fences it', async () => {
    // Present key: the version is its CAS.
    await tier.set('race', envelope('old'), 60_000);
    const present = await tier.getVersioned('race');
    await tier.delete('race');
    assert.equal(await tier.setIfVersion('race', envelope('stale'), 60_000, present.version), false);
    // Absent key: version '0', stored add-only; the delete's tombstone makes the add fail.
    const absent = await tier.getVersioned('never-cached');
    assert.equal(absent.version, '0');
    await tier.delete('never-cached');
    assert.equal(await tier.setIfVersion('never-cached', envelope('stale'), 60_000, absent.version), false);
    assert.equal(await tier.get('never-cached'), undefined);
    // Unraced, it stores.
    const fresh = await tier.getVersioned('fresh');
    assert.equal(await tier.setIfVersion('fresh', envelope('v'), 60_000, fresh.version), true);
    assert.equal((await tier.get('fresh'))?.value, 'v');
  });

  it('grants one lease; a lapsed holder is fenced out, even before the next holder stores', async () => {
    const first = await tier.tryLock('lease', 1000);
    assert.ok(first?.token, 'the first caller gets the lease');
    assert.equal(await tier.tryLock('lease', 1000), undefined, 'a second caller does not');
    assert.equal(await tier.get('lease'), undefined, 'a lease is a miss, not a value (and not corrupt)');
    // The holder stalls past its lease (Memcached TTLs are whole seconds).
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const second = await tier.tryLock('lease', 5000);
    assert.ok(second?.token, 'the lapsed lease goes to the next caller');
    const stale = await tier.setIfVersion('lease', envelope('paused'), 60_000, first.token as string, first.token);
    assert.equal(stale, false, "the paused holder's store is refused");
    assert.equal(await second.extend?.(5000), true, 'the holder extends its lease');
    const stored = await tier.setIfVersion('lease', envelope('fresh'), 60_000, '0', second.token);
    assert.equal(stored, true, 'the live holder stores with its (renewed) token');
    assert.equal((await tier.get('lease'))?.value, 'fresh');
    await second.release(); // its value moved the CAS: release leaves it alone
    assert.equal((await tier.get('lease'))?.value, 'fresh');
  });

  it('a released lease becomes a tombstone: the next caller gets the lease, a stale add fails', async () => {
    const before = await tier.getVersioned('released');
    const lease = await tier.tryLock('released', 5000);
    assert.ok(lease);
    await lease.release();
    assert.equal(await tier.setIfVersion('released', envelope('stale'), 60_000, before.version), false);
    const next = await tier.tryLock('released', 5000);
    assert.ok(next, 'a tombstone can be leased');
    await next.release();
  });

  it('maps hostile keys onto distinct, valid Memcached keys', async () => {
    const keys = [
      'with space',
      'new\nline',
      'tab\tand\r\ncrlf',
      '%41',
      'A',
      '#hash',
      '~tilde',
      'ünïcødé ✓',
      '🙂',
      'x'.repeat(1000),
      `${'x'.repeat(999)}y`,
      '\u0001ns',
      '',
    ];
    await Promise.all(keys.map((key, i) => tier.set(key, envelope(i), 60_000)));
    for (const [i, key] of keys.entries()) assert.equal((await tier.get(key))?.value, i, JSON.stringify(key));
  });

  it('reads garbage bytes as a counted miss', async () => {
    const corrupt = tier.counters.corrupt;
    const cache = createCache({ ttl: '1m', l1: false, l2: tier });
    let loads = 0;
    await tier.set('garbage2', envelope('ok'), 60_000);
    await corruptEverywhere(servers, 'garbage2');
    assert.equal(await cache.getOrLoad('garbage2', async () => ++loads), 1, 'the loader answers');
    assert.ok(tier.counters.corrupt > corrupt, 'the bad bytes are counted');
    await cache.close();
  });

  it('refuses a value over the limit, counted, and the caller still gets it', async () => {
    const small = createMemcachedTier({ servers: servers.map((s) => s.address), maxEntryBytes: 1000 });
    const cache = createCache({ ttl: '1m', l2: small });
    const big = 'x'.repeat(5000);
    assert.equal(await cache.getOrLoad('big', async () => big), big);
    assert.equal(cache.stats().l2?.refused, 1);
    assert.equal(await small.get('big'), undefined, 'nothing was cut and stored');
    await cache.close();
    await small.close();
  });

  it('clears everything, or one namespace, by moving a generation', async () => {
    const cache = createCache({ ttl: '1m', l1: false, l2: tier });
    const users = cache.namespace('users');
    await cache.set('root-key', 1);
    await users.set('u1', 2);
    await users.clear();
    assert.equal(await users.get('u1'), undefined, 'the namespace is cleared');
    assert.equal(await cache.get('root-key'), 1, 'the root is not');
    await users.set('u1', 3);
    await cache.clear();
    assert.equal(await cache.get('root-key'), undefined);
    assert.equal(await users.get('u1'), undefined, 'a root clear reaches nested namespaces');
    await cache.close();
  });
});

describe('Memcached tier: hot keys', needs(memcachedMissing), () => {
  it('spreads a hot key over three servers, and a write is never undone by a copy', async () => {
    const servers = await Promise.all([0, 1, 2, 3].map(() => MemcachedServer.start()));
    const tier = createMemcachedTier({ servers: servers.map((s) => s.address) });
    try {
      await tier.set('celebrity', envelope('v1'), 60_000);
      tier.setHotKeys(['celebrity']);
      const hits = async () =>
        Promise.all(servers.map(async (s) => Number(/STAT get_hits (\d+)/.exec(await s.command('stats'))?.[1] ?? 0)));
      const before = await hits();
      for (let i = 0; i < 300; i++) assert.equal((await tier.get('celebrity'))?.value, 'v1');
      const after = await hits();
      const served = after.map((n, i) => n - (before[i] as number)).filter((n) => n > 30);
      assert.equal(
        served.length,
        3,
        `three servers share the reads: ${after.map((n, i) => n - (before[i] as number))}`,
      );
      for (let round = 2; round <= 5; round++) {
        await tier.set('celebrity', envelope(`v${round}`), 60_000);
        for (let i = 0; i < 30; i++) assert.equal((await tier.get('celebrity'))?.value, `v${round}`);
      }
      await tier.delete('celebrity');
      for (let i = 0; i < 30; i++) assert.equal(await tier.get('celebrity'), undefined);
    } finally {
      await tier.close();
      await Promise.all(servers.map((s) => s.stop()));
    }
  });
});

/** Overwrites a key's item with bytes that do not decode, on every server, whatever its generation head. */
async function corruptEverywhere(servers: MemcachedServer[], key: string): Promise<void> {
  for (const server of servers) {
    const dump = await server.command('lru_crawler metadump all');
    for (const match of dump.matchAll(/key=(\S+)/g)) {
      const name = decodeURIComponent(match[1] as string);
      if (name.endsWith(`:${key}`)) await server.command(`ms ${name} 5 T60\r\n{{{{{`);
    }
  }
}

describe('Memcached tier: another instance sees writes', needs(memcachedMissing), () => {
  let server: MemcachedServer;
  let redis: RedisServer;

  before(async () => {
    [server, redis] = await Promise.all([MemcachedServer.start(), RedisServer.start()]);
  });
  after(async () => {
    await Promise.all([server.stop(), redis.stop()]);
  });

  it('without a bus, within l1Freshness', async () => {
    const make = () => createMemcachedTier({ servers: [server.address], l1Freshness: '300ms' });
    const [ta, tb] = [make(), make()];
    const a = createCache({ ttl: '1h', l2: ta });
    const b = createCache({ ttl: '1h', l2: tb });
    await a.set('menu', 'v1');
    assert.equal(await b.get('menu'), 'v1');
    await a.set('menu', 'v2');
    const ms = await eventually(async () => (await b.get('menu')) === 'v2', 'b sees v2', 3000);
    assert.ok(ms < 1500, `seen after ${ms} ms, within the 300 ms bound plus reads`);
    await Promise.all([a.close(), b.close(), ta.close(), tb.close()]);
  });

  it('with a Redis bus, at once', async () => {
    const buses = [createRedisTier({ client: redis.url }), createRedisTier({ client: redis.url })];
    const [ta, tb] = buses.map((bus) => createMemcachedTier({ servers: [server.address], invalidation: bus }));
    const a = createCache({ ttl: '1h', l2: ta });
    const b = createCache({ ttl: '1h', l2: tb });
    assert.equal(ta?.l1FreshnessMs, undefined, 'no freshness bound with a bus');
    await a.set('menu2', 'v1');
    assert.equal(await b.get('menu2'), 'v1');
    await new Promise((resolve) => setTimeout(resolve, 200)); // the subscriptions settle
    await a.delete('menu2');
    await eventually(async () => (await b.get('menu2')) === undefined, 'b drops its copy', 2000);
    await Promise.all([a.close(), b.close(), ta?.close(), tb?.close(), ...buses.map((t) => t.close())]);
  });
});

describe('Memcached tier: failures', needs(memcachedMissing), () => {
  it('a dead pool never fails a caller while a loader is available', async () => {
    const server = await MemcachedServer.start();
    const tier = createMemcachedTier({ servers: [server.address], timeout: '200ms' });
    const cache = createCache({ ttl: '1m', l1: false, l2: tier });
    await server.stop();
    let loads = 0;
    for (let i = 0; i < 20; i++) assert.equal(await cache.getOrLoad(`k${i}`, async () => ++loads), i + 1);
    assert.ok((cache.stats().l2?.errors ?? 0) > 0, 'the failures are counted');
    await cache.close();
    await tier.close();
  });

  it('sends a down server’s keys to the gutter, and tombstones what changed when it returns', async () => {
    const [primary, gutter] = await Promise.all([MemcachedServer.start(), MemcachedServer.start()]);
    const proxy = await FaultProxy.start(primary.port);
    const tier = createMemcachedTier({
      servers: [`127.0.0.1:${proxy.port}`],
      gutter: [gutter.address],
      timeout: '150ms',
      breakerFailures: 1,
      breakerOpen: '300ms',
    });
    const cache = createCache({ ttl: '1m', l1: false, l2: tier });
    await cache.set('menu', 'v1');
    proxy.blackhole();
    assert.equal(await cache.get('menu'), undefined, 'the read times out: a miss');
    assert.equal(tier.servers[0]?.down, true);
    await cache.delete('menu'); // lands in the gutter
    assert.equal(await cache.getOrLoad('menu', async () => 'v2'), 'v2');
    assert.equal(await cache.get('menu'), 'v2', 'served from the gutter');
    assert.ok(tier.counters.gutter > 0);
    proxy.heal();
    await new Promise((resolve) => setTimeout(resolve, 400)); // the breaker's trial is due
    await eventually(
      async () => (await cache.get('menu')) === undefined && !tier.servers[0]?.down,
      'the primary is back, without the value the delete replaced',
      3000,
    );
    const fresh = createMemcachedTier({ servers: [`127.0.0.1:${proxy.port}`] });
    assert.equal(await fresh.get('menu'), undefined, 'the primary does not serve v1 again');
    await Promise.all([cache.close(), tier.close(), fresh.close()]);
    await proxy.close();
    await Promise.all([primary.stop(), gutter.stop()]);
  });
});

describe('Memcached tier: several OS processes', needs(memcachedMissing), () => {
  const PROCESSES = 4;
  const CALLERS = 2500;
  let servers: MemcachedServer[];
  let instances: Instance[];

  before(async () => {
    servers = await Promise.all([MemcachedServer.start(), MemcachedServer.start()]);
    const addresses = servers.map((s) => s.address);
    instances = await Promise.all(Array.from({ length: PROCESSES }, () => Instance.start({ memcached: addresses })));
  });
  after(async () => {
    await Promise.all(instances.map((i) => i.stop()));
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('runs the loader exactly once for 4 × 2,500 concurrent callers of one cold key', async () => {
    const results = await Promise.all(
      instances.map((instance) =>
        instance.send<{ loaderCalls: number; distinct: unknown[]; latencies: number[] }>({
          op: 'stampede',
          key: 'cold-key',
          concurrency: CALLERS,
          loaderMs: 50,
        }),
      ),
    );
    const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
    console.log(
      `  memcached: ${PROCESSES} × ${CALLERS} callers, 50 ms loader: p99 ${latencies[Math.floor(latencies.length * 0.99)]?.toFixed(1)} ms`,
    );
    assert.equal(
      results.reduce((sum, r) => sum + r.loaderCalls, 0),
      1,
      'one load across all processes',
    );
    assert.equal(new Set(results.flatMap((r) => r.distinct)).size, 1, 'every caller gets the same value');
    assert.equal(latencies.length, PROCESSES * CALLERS);
  });
});
