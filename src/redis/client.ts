/**
 * Which node-redis clients the Redis tier accepts, and the clients it creates for itself from URLs.
 */
import { createClient, createCluster, type RedisClientType, type RedisClusterType } from '@redis/client';
import { ConfigError } from '../errors.js';

// The tier uses only core commands, so any modules, functions, scripts, RESP version or type mapping do.
// biome-ignore lint/suspicious/noExplicitAny: see above
type AnyParams = any;
/** A node-redis standalone (or Sentinel) client, as `createClient()` from `redis` or `@redis/client` returns. */
export type RedisClient = RedisClientType<AnyParams, AnyParams, AnyParams, AnyParams, AnyParams>;
/** A node-redis Cluster client, as `createCluster()` returns. */
export type RedisClusterClient = RedisClusterType<AnyParams, AnyParams, AnyParams, AnyParams, AnyParams>;

/** A client for a URL, or a Cluster client for seed URLs, that fails fast while disconnected. */
export function ownClient(target: string | readonly string[]): RedisClient | RedisClusterClient {
  if (typeof target === 'string') return createClient({ url: target, disableOfflineQueue: true });
  if (target.length === 0) throw new ConfigError('client', 'a Cluster needs at least one seed URL.');
  return createCluster({
    rootNodes: target.map((url) => ({ url })),
    defaults: { disableOfflineQueue: true },
  });
}

/** Whether a client is a Cluster client (it knows its masters). */
export function isCluster(client: RedisClient | RedisClusterClient): client is RedisClusterClient {
  return 'masters' in client;
}

/** Whether a value looks like a node-redis client (of either kind). */
export function isClient(value: unknown): value is RedisClient | RedisClusterClient {
  return typeof value === 'object' && value !== null && typeof (value as RedisClient).get === 'function';
}
