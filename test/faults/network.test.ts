/**
 * Network faults between the cache and a real Redis (issue: promises under races and faults). Each test
 * is named after the broken promise it pins; each failed on the code before the fix.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createCache, createRedisTier, type RedisTier, TierUnavailableError } from '../../src/index.js';
import { eventually } from '../helpers/eventually.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { RedisServer } from '../helpers/redis-server.js';

/** Fails the test instead of hanging it when a promise that must settle does not. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, guard]).finally(() => clearTimeout(timer));
}

describe('network faults (command and pub/sub connections through a fault proxy)', () => {
  let server: RedisServer;
  let proxy: FaultProxy;
  const tiers: RedisTier[] = [];
  const tier = (url: string, extra: Partial<Parameters<typeof createRedisTier>[0]> = {}) => {
    const made = createRedisTier({ client: url, timeout: '150ms', breakerFailures: 1000, ...extra });
    tiers.push(made);
    return made;
  };

  before(async () => {
    server = await RedisServer.start();
  });
  beforeEach(async () => {
    proxy = await FaultProxy.start(server.port);
    await server.cli('FLUSHALL');
  });
  after(async () => {
    await Promise.all(tiers.map((t) => t.close()));
    await server.stop();
  });

  it('a set() timed out in a partition never lands over a newer write when the network heals (late replay)', async () => {
    const viaProxy = tier(proxy.url);
    const direct = tier(server.url);
    const a = createCache({ ttl: '1m', l2: viaProxy });
    const b = createCache({ ttl: '1m', l2: direct });
    await a.set('menu', 'first'); // connects, and warms the scripts up
    proxy.blackhole();
    assert.equal(await a.set('menu', 'old'), 'deferred', 'set() says the shared tier did not confirm it');
    assert.equal(await b.set('menu', 'new'), 'stored');
    proxy.heal(); // what the partition held reaches Redis now
    // Whatever A's late bytes do, Redis never ends up holding the older write.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const reader = createCache({ ttl: '1m', l1: false, l2: direct });
    for (let i = 0; i < 20; i++) {
      assert.notEqual(await reader.get('menu'), 'old');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await Promise.all([a.close(), b.close(), reader.close()]);
    await proxy.close();
  });

  it('writes made while Redis was unreachable are repaired when it comes back (no instance keeps the old value)', async () => {
    const viaProxy = tier(proxy.url);
    const direct = tier(server.url);
    const writer = createCache({ ttl: '1m', l2: viaProxy });
    const other = createCache({ ttl: '1m', l2: direct });
    let row = 'v1';
    const load = async () => row;
    assert.equal(await writer.getOrLoad('menu', load), 'v1');
    assert.equal(await other.getOrLoad('menu', load), 'v1'); // from L2, now in its L1 too
    proxy.blackhole();
    row = 'v2';
    assert.equal(await writer.writeThrough('menu', 'v2', () => undefined), 'deferred');
    assert.equal(writer.stats().l2?.deferred, 1);
    proxy.reset();
    proxy.heal();
    await eventually(
      async () => (await other.getOrLoad('menu', load)) === 'v2',
      'the other instance reads the new value',
      5000,
    );
    assert.equal(writer.stats().l2?.repaired, 1);
    await Promise.all([writer.close(), other.close()]);
    await proxy.close();
  });

  it('a broken pub/sub connection does not stretch a lock wait past lock.wait', async () => {
    proxy.blackhole('pubsub'); // the subscriber's SUBSCRIBE never gets through; commands do
    const viaProxy = tier(proxy.url);
    const holder = tier(server.url);
    const cache = createCache({ ttl: '1m', l2: viaProxy, lock: { ttl: '10s', wait: '300ms' } });
    const held = await holder.tryLock('menu', 10_000); // another instance is loading, and stays so
    assert.ok(held !== undefined);
    let loads = 0;
    const value = await within(
      cache.getOrLoad('menu', async () => {
        loads++;
        return 'mine';
      }),
      3000,
      'getOrLoad',
    );
    assert.equal(value, 'mine');
    assert.equal(loads, 1);
    assert.equal(cache.stats().l2?.lockTimeouts, 1);
    await held.release();
    await cache.close();
    await proxy.close();
  });

  it('clear() rejects instead of hanging while Redis is down', async () => {
    const dead = await FaultProxy.start(server.port);
    dead.refuse(true);
    const cache = createCache({ ttl: '1m', l2: tier(dead.url) });
    await within(assert.rejects(cache.clear(), TierUnavailableError), 3000, 'clear() with Redis refusing connections');
    await cache.close();
    await dead.close();
    await proxy.close();
  });

  it('clear() rejects instead of hanging when the password is wrong', async () => {
    const guarded = await RedisServer.start(['--requirepass', 'right'], {
      cliArgs: ['-a', 'right', '--no-auth-warning'],
    });
    const cache = createCache({ ttl: '1m', l2: tier(`redis://:wrong@127.0.0.1:${guarded.port}`) });
    assert.equal(await cache.getOrLoad('k', async () => 'from the database'), 'from the database');
    await within(assert.rejects(cache.clear(), TierUnavailableError), 3000, 'clear() with a wrong password');
    await cache.close();
    await guarded.stop();
    await proxy.close();
  });

  it('clear() rejects instead of hanging while the network is partitioned', async () => {
    const cache = createCache({ ttl: '1m', l2: tier(proxy.url) });
    await cache.set('k', 1);
    proxy.blackhole();
    await within(assert.rejects(cache.clear(), TierUnavailableError), 3000, 'clear() in a partition');
    proxy.heal();
    await cache.close();
    await proxy.close();
  });

  it('a per-key reply error (WRONGTYPE) does not open the breaker for every key', async () => {
    const l2 = tier(server.url, { breakerFailures: 3 });
    const cache = createCache({ ttl: '1m', l2 });
    await cache.set('good', 'value');
    // Ten keys whose Redis key holds a list, as if another program wrote there.
    for (let i = 0; i < 10; i++) await server.cli('LPUSH', `tiercache:d:{bad${i}}`, 'x');
    // Read together: ten reply errors in a row, as under load.
    const read = await Promise.all(
      Array.from({ length: 10 }, (_, i) => cache.getOrLoad(`bad${i}`, async () => `loaded${i}`)),
    );
    assert.deepEqual(
      read,
      Array.from({ length: 10 }, (_, i) => `loaded${i}`),
    );
    assert.equal(l2.breakerState, 'closed');
    const reader = createCache({ ttl: '1m', l1: false, l2 });
    assert.equal(await reader.get('good'), 'value');
    await Promise.all([cache.close(), reader.close()]);
    await proxy.close();
  });

  it('ignores and counts bus messages that are not invalidations (prototype names, garbage)', async () => {
    const l2 = tier(server.url);
    const cache = createCache({ ttl: '1m', l2 });
    const other = createCache({ ttl: '1m', l2 });
    await cache.set('keep', 'me');
    await other.set('sync', 1); // a real message, to know the bus is live
    await eventually(() => (cache.stats().bus?.received ?? 0) >= 1, 'the bus delivers');
    for (const op of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'x']) {
      await server.cli('PUBLISH', 'tiercache:bus', JSON.stringify({ i: 'evil', s: 1, o: op, k: '' }));
    }
    for (const junk of ['not json', 'null', '[]', '{"o":"c"}', '{"i":1,"s":1,"o":"c","k":""}']) {
      await server.cli('PUBLISH', 'tiercache:bus', junk);
    }
    await eventually(() => l2.bus.malformed >= 10, 'every malformed message is counted');
    assert.equal(await cache.get('keep'), 'me', 'no malformed message cleared the L1');
    assert.equal(cache.stats().bus?.gaps, 0);
    await Promise.all([cache.close(), other.close()]);
    await proxy.close();
  });
});
