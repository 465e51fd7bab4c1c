/**
 * Network faults between the cache and a Sentinel-managed master: the master (and its replica) behind
 * fault proxies, which node-redis's Sentinel client reaches through `nodeAddressMap`. The Sentinel
 * client carries commands and pub/sub over connections of its own; both are faulted.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createSentinel } from '@redis/client';
import {
  createCache,
  createRedisTier,
  type RedisSentinelClient,
  type RedisTier,
  TierUnavailableError,
} from '../../src/index.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { RedisSentinelGroup } from '../helpers/redis-server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('network faults through Sentinel', { timeout: 60_000 }, () => {
  let group: RedisSentinelGroup;
  let masterProxy: FaultProxy;
  let replicaProxy: FaultProxy;
  let proxied: RedisSentinelClient;
  let direct: RedisSentinelClient;
  const tiers: RedisTier[] = [];

  const sentinelClient = async (map: boolean): Promise<RedisSentinelClient> => {
    const client = createSentinel({
      name: group.name,
      sentinelRootNodes: [{ host: '127.0.0.1', port: group.sentinelPort }],
      ...(map
        ? {
            nodeAddressMap: {
              [`127.0.0.1:${group.master.port}`]: { host: '127.0.0.1', port: masterProxy.port },
              [`127.0.0.1:${group.replica.port}`]: { host: '127.0.0.1', port: replicaProxy.port },
            },
          }
        : {}),
    }) as unknown as RedisSentinelClient;
    client.on('error', () => {});
    await client.connect();
    return client;
  };

  before(async () => {
    group = await RedisSentinelGroup.start();
    masterProxy = await FaultProxy.start(group.master.port);
    replicaProxy = await FaultProxy.start(group.replica.port);
    proxied = await sentinelClient(true);
    direct = await sentinelClient(false);
  });
  after(async () => {
    await Promise.all(tiers.map((tier) => tier.close()));
    await proxied.close().catch(() => undefined);
    await direct.close().catch(() => undefined);
    await masterProxy.close();
    await replicaProxy.close();
    await group.stop();
  });

  it('a partitioned master costs loads, not failures; a write sent into the partition never lands over a newer one', async () => {
    const viaProxy = createRedisTier({ client: proxied, timeout: '150ms', breakerFailures: 1000 });
    const viaDirect = createRedisTier({ client: direct });
    tiers.push(viaProxy, viaDirect);
    const a = createCache({ ttl: '1m', l2: viaProxy });
    const b = createCache({ ttl: '1m', l2: viaDirect });
    assert.equal(await a.set('menu', 'first'), 'stored');
    masterProxy.blackhole();
    const reader = createCache({ ttl: '1m', l1: false, l2: viaProxy });
    assert.equal(await reader.getOrLoad('other', async () => 'from the database'), 'from the database');
    assert.equal(await a.set('menu', 'old'), 'deferred');
    await assert.rejects(a.clear(), TierUnavailableError);
    assert.equal(await b.set('menu', 'new'), 'stored');
    masterProxy.heal();
    await sleep(300);
    const check = createCache({ ttl: '1m', l1: false, l2: viaDirect });
    for (let i = 0; i < 10; i++) {
      assert.notEqual(await check.get('menu'), 'old');
      await sleep(50);
    }
    await Promise.all([a.close(), b.close(), reader.close(), check.close()]);
  });

  it('with the pub/sub connection blackholed, a lock wait still ends at lock.wait', async () => {
    const viaProxy = createRedisTier({ client: proxied, timeout: '300ms' });
    const viaDirect = createRedisTier({ client: direct });
    tiers.push(viaProxy, viaDirect);
    const cache = createCache({ ttl: '1m', l2: viaProxy, lock: { ttl: '10s', wait: '300ms' } });
    masterProxy.blackhole('pubsub');
    const held = await viaDirect.tryLock('menu:locked', 10_000);
    assert.ok(held !== undefined);
    let loads = 0;
    const value = await cache.getOrLoad('menu:locked', async () => {
      loads++;
      return 'mine';
    });
    assert.equal(value, 'mine');
    assert.equal(loads, 1);
    assert.equal(cache.stats().l2?.lockTimeouts, 1, 'the wait ended at lock.wait, not when the network healed');
    masterProxy.heal();
    await held.release();
    await cache.close();
  });
});
