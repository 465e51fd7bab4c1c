/**
 * The Redis tier over Sentinel: a master, a replica and a sentinel started by the test. Two caches, one
 * over a Sentinel client the tier creates from `{ name, sentinels }`, one over a node-redis Sentinel
 * client of the caller's, share the L2, the lock and the bus, and keep working through a failover.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSentinel } from '@redis/client';
import { type Cache, createCache, createRedisTier, type RedisSentinelClient, type RedisTier } from '../../src/index.js';
import { redisKey } from '../../src/redis/key-layout.js';
import { eventually } from '../helpers/eventually.js';
import { RedisSentinelGroup } from '../helpers/redis-server.js';

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Redis tier over Sentinel', { timeout: 90_000 }, () => {
  let group: RedisSentinelGroup;
  let own: RedisSentinelClient;
  let tierA: RedisTier;
  let tierB: RedisTier;
  let a: Cache;
  let b: Cache;

  before(async () => {
    group = await RedisSentinelGroup.start();
    tierA = createRedisTier({ client: { name: group.name, sentinels: [group.url] }, timeout: '1s' });
    own = createSentinel({ name: group.name, sentinelRootNodes: [{ host: '127.0.0.1', port: group.sentinelPort }] });
    own.on('error', () => {});
    await own.connect();
    tierB = createRedisTier({ client: own as RedisSentinelClient, timeout: '1s' });
    a = createCache({ ttl: '1m', l2: tierA });
    b = createCache({ ttl: '1m', l2: tierB });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await tierA?.close();
    await tierB?.close();
    await own?.close().catch(() => undefined);
    await group?.stop();
  });

  it('writes reach the master the sentinel names, and the other instance reads them from L2', async () => {
    await a.set('menu:1', { name: 'pho' });
    const stored = await group.master.cli('EXISTS', redisKey('tiercache:', 'menu:1'));
    assert.equal(stored, '1', 'the value is on the master');
    let loads = 0;
    const value = await b.getOrLoad('menu:1', () => {
      loads++;
      return { name: 'from the database' };
    });
    assert.deepEqual(value, { name: 'pho' });
    assert.equal(loads, 0);
  });

  it('one load for concurrent misses of both instances (the lock), and a write drops the other L1 copy', async () => {
    let loads = 0;
    const loader = async () => {
      loads++;
      await wait(50);
      return { name: 'bun cha' };
    };
    const reads = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? a : b).getOrLoad('menu:2', loader)),
    );
    assert.equal(loads, 1, 'the loader ran exactly once across both instances');
    assert.ok(reads.every((read) => read.name === 'bun cha'));
    // b holds an L1 copy now; a's write must remove it through the bus.
    await a.set('menu:2', { name: 'bun bo' });
    const ms = await eventually(
      async () => (await b.get<{ name: string }>('menu:2'))?.name === 'bun bo',
      'the bus',
      10_000,
    );
    console.log(`# sentinel: invalidation reached the other instance in ${ms.toFixed(1)} ms`);
  });

  it('clears one namespace through the Sentinel client (SCAN + UNLINK on the master) and keeps the other', async () => {
    for (let i = 0; i < 50; i++) {
      await a.namespace('menus').set(`${i}`, { i });
      await a.namespace('users').set(`${i}`, { i });
    }
    await a.namespace('menus').clear();
    let loads = 0;
    const fromDb = () => {
      loads++;
      return { i: -1 };
    };
    for (let i = 0; i < 50; i++) {
      assert.deepEqual(await b.namespace('users').getOrLoad(`${i}`, fromDb), { i }, 'the other namespace is intact');
    }
    assert.equal(loads, 0);
    for (let i = 0; i < 50; i++) await b.namespace('menus').getOrLoad(`${i}`, fromDb);
    assert.equal(loads, 50, 'every cleared key loads again');
  });

  it('through a failover: reads never throw, writes land on the new master, and the bus reports a gap', async () => {
    const gapsBefore = b.stats().bus?.gaps ?? 0;
    let stop = false;
    let failures = 0;
    let served = 0;
    // Readers keep going all through the failover; the loader is the database, always there.
    const readers = Array.from({ length: 4 }, async (_, i) => {
      while (!stop) {
        try {
          await (i % 2 === 0 ? a : b).getOrLoad(`menu:f${i}`, () => ({ name: `dish ${i}` }));
          served++;
        } catch {
          failures++;
        }
        await wait(5);
      }
    });
    await group.failover();
    // The clients follow the master: a write through each tier ends up on the promoted server.
    const landsOnPromoted = (cache: Cache, key: string, what: string) =>
      eventually(
        async () => {
          await cache.set(key, { name: 'after failover' }).catch(() => undefined);
          return (await group.replica.cli('EXISTS', redisKey('tiercache:', key))) === '1';
        },
        what,
        10_000,
      );
    await landsOnPromoted(a, 'menu:3', 'a write through the Sentinel client the tier made, on the new master');
    await landsOnPromoted(b, 'menu:4', 'a write through the caller-owned Sentinel client, on the new master');
    stop = true;
    await Promise.all(readers);
    assert.equal(failures, 0, 'no read failed during the failover');
    assert.ok(served > 0);
    await eventually(() => (b.stats().bus?.gaps ?? 0) > gapsBefore, 'a gap after the topology change', 10_000);
    // And the bus works again on the new master.
    await b.get('menu:3');
    await a.set('menu:3', { name: 'changed again' });
    await eventually(
      async () => (await b.get<{ name: string }>('menu:3'))?.name === 'changed again',
      'the bus after failover',
    );
  });
});
