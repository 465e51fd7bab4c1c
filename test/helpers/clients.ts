/** Connected node-redis clients for tests that own their client (the tier also accepts URLs). */
import { createClient, createCluster } from '@redis/client';
import type { RedisClient, RedisClusterClient } from '../../src/index.js';

/** A standalone client that fails fast while the server is down (as the tier's own clients do). */
export async function connectRedis(url: string): Promise<RedisClient> {
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
