/**
 * Network faults on a Redis Cluster: every master behind its own fault proxy (node-redis's
 * `nodeAddressMap` sends the client there), so one shard can be partitioned while the others answer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createCluster } from '@redis/client';
import calculateSlot from 'cluster-key-slot';
import { createCache, createRedisTier, type RedisClusterClient, type RedisTier } from '../../src/index.js';
import { redisKey } from '../../src/redis/key-layout.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { RedisCluster } from '../helpers/redis-server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('network faults on a Redis Cluster (a proxy per master)', { timeout: 60_000 }, () => {
  let cluster: RedisCluster;
  const proxies = new Map<number, FaultProxy>();
  let proxied: RedisClusterClient;
  let direct: RedisClusterClient;
  const tiers: RedisTier[] = [];

  before(async () => {
    cluster = await RedisCluster.start(3);
    for (const server of cluster.servers) proxies.set(server.port, await FaultProxy.start(server.port));
    const nodeAddressMap = Object.fromEntries(
      [...proxies].map(([port, proxy]) => [`127.0.0.1:${port}`, { host: '127.0.0.1', port: proxy.port }]),
    );
    proxied = createCluster({
      rootNodes: [{ url: (proxies.get(cluster.servers[0]?.port as number) as FaultProxy).url }],
      nodeAddressMap,
      defaults: { disableOfflineQueue: true },
    }) as unknown as RedisClusterClient;
    proxied.on('error', () => {});
    await proxied.connect();
    direct = createCluster({ rootNodes: cluster.urls.map((url) => ({ url })) }) as unknown as RedisClusterClient;
    direct.on('error', () => {});
    await direct.connect();
  });
  after(async () => {
    await Promise.all(tiers.map((tier) => tier.close()));
    proxied.destroy();
    direct.destroy();
    for (const proxy of proxies.values()) await proxy.close();
    await cluster.stop();
  });

  /** The proxy in front of the master that serves `key`'s slot. */
  async function proxyOf(key: string): Promise<FaultProxy> {
    const slot = calculateSlot(redisKey('tiercache:', key));
    // The client that connects directly knows the live slot map.
    const master = direct.slots[slot]?.master as { port: number } | undefined;
    const proxy = proxies.get(master?.port as number);
    assert.ok(proxy !== undefined, `no proxy for slot ${slot}`);
    return proxy;
  }

  it('a partitioned shard costs loads, not failures, and its late writes never land over newer ones', async () => {
    const viaProxy = createRedisTier({ client: proxied, timeout: '150ms', breakerFailures: 1000 });
    const viaDirect = createRedisTier({ client: direct });
    tiers.push(viaProxy, viaDirect);
    const a = createCache({ ttl: '1m', l2: viaProxy });
    const b = createCache({ ttl: '1m', l2: viaDirect });
    const keys = Array.from({ length: 30 }, (_, i) => `menu:${i}`);
    for (const key of keys) await a.set(key, 'first');
    const victim = await proxyOf('menu:0');
    victim.blackhole();
    // Every key still answers (from the L1, or the loader for the partitioned shard's keys).
    const reader = createCache({ ttl: '1m', l1: false, l2: viaProxy });
    const read = await Promise.all(keys.map((key) => reader.getOrLoad(key, async () => 'from the database')));
    assert.equal(read.length, keys.length);
    assert.ok(read.includes('from the database'), "the partitioned shard's keys were loaded");
    assert.ok(read.includes('first'), "the other shards' keys came from Redis");
    // A write into the partition, then a newer one from another instance; then the network heals.
    assert.equal(await a.set('menu:0', 'old'), 'deferred');
    assert.equal(await b.set('menu:0', 'new'), 'stored');
    victim.heal();
    await sleep(300);
    const check = createCache({ ttl: '1m', l1: false, l2: viaDirect });
    for (let i = 0; i < 10; i++) {
      assert.notEqual(await check.get('menu:0'), 'old');
      await sleep(50);
    }
    await Promise.all([a.close(), b.close(), reader.close(), check.close()]);
  });
});
