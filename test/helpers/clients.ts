/** Connected node-redis clients for tests that own their client (the tier also accepts URLs). */
import { createClient, createCluster } from '@redis/client';
import { Redis } from 'ioredis';
import type { RedisClient, RedisClusterClient } from '../../src/index.js';

/**
 * A standalone client that fails fast while the server is down (as the tier's own clients do): node-redis,
 * or ioredis when `TIERCACHE_TEST_CLIENT=ioredis` (`ioredis.test.ts` runs the standalone suites so).
 */
export async function connectRedis(url: string): Promise<RedisClient> {
  if (process.env.TIERCACHE_TEST_CLIENT === 'ioredis') return connectIoredis(url);
  const client = createClient({ url, disableOfflineQueue: true });
  client.on('error', () => {}); // connection errors while a test's server is down are expected
  await client.connect();
  return client as RedisClient;
}

/** A Cluster client from seed URLs. */
export async function connectCluster(urls: readonly string[]): Promise<RedisClusterClient> {
  const cluster = createCluster({ rootNodes: urls.map((url) => ({ url })), defaults: { disableOfflineQueue: true } });
  cluster.on('error', () => {});
  await cluster.connect();
  return cluster as RedisClusterClient;
}

/** An ioredis client, typed as the node-redis one the tests hold (the tier tells them apart); `destroy()` disconnects. */
async function connectIoredis(url: string): Promise<RedisClient> {
  const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
  client.on('error', () => {});
  await client.connect();
  return Object.assign(client, { destroy: () => client.disconnect() }) as unknown as RedisClient;
}
