/**
 * Which node-redis clients the Redis tier accepts, and the clients it creates for itself from URLs or
 * a Sentinel description.
 */
import type * as RedisModule from '@redis/client';
import type { RedisClientType, RedisClusterType, RedisSentinelType } from '@redis/client';
import { ConfigError } from '../errors.js';
import { peer } from '../peer.js';
import { ConnectionHealth } from './connection-health.js';
import { IoredisAdapter, type IoredisLike, isIoredisCluster } from './ioredis-adapter.js';

/** node-redis, an optional peer: installed by users of the Redis tier (see `peer.ts`). */
export function redisModule(): typeof RedisModule {
  return peer<typeof RedisModule>('@redis/client', 'client');
}

// The tier uses only core commands, so any modules, functions, scripts, RESP version or type mapping do.
// biome-ignore lint/suspicious/noExplicitAny: see above
type AnyParams = any;
/** A node-redis standalone client, as `createClient()` from `redis` or `@redis/client` returns. */
export type RedisClient = RedisClientType<AnyParams, AnyParams, AnyParams, AnyParams, AnyParams>;
/** A node-redis Cluster client, as `createCluster()` returns. */
export type RedisClusterClient = RedisClusterType<AnyParams, AnyParams, AnyParams, AnyParams, AnyParams>;
/** A node-redis Sentinel client, as `createSentinel()` returns: it follows the master through failovers. */
export type RedisSentinelClient = RedisSentinelType<AnyParams, AnyParams, AnyParams, AnyParams, AnyParams>;
/** Any client the tier accepts. */
export type AnyRedisClient = RedisClient | RedisClusterClient | RedisSentinelClient;

/** A Sentinel-monitored master for a client the tier creates: the master's name and some sentinels. */
export interface SentinelTarget {
  /** The master's name, as in `sentinel monitor <name> …`. */
  readonly name: string;
  /** Sentinel URLs, such as `redis://10.0.0.5:26379`; one that answers is enough. */
  readonly sentinels: readonly string[];
}

/**
 * A client for a URL, a Cluster client for seed URLs, or a Sentinel client, that fails fast while
 * disconnected (a standalone or Cluster client does not queue commands offline).
 */
export function ownClient(target: string | readonly string[] | SentinelTarget): AnyRedisClient {
  const { createClient, createCluster } = redisModule();
  if (typeof target === 'string') return createClient({ url: checkUrl(target), disableOfflineQueue: true });
  if (isSentinelTarget(target)) return ownSentinel(target);
  if (target.length === 0) throw new ConfigError('client', 'a Cluster needs at least one seed URL.');
  return createCluster({
    rootNodes: target.map((url) => ({ url: checkUrl(url) })),
    defaults: { disableOfflineQueue: true },
  });
}

/**
 * A Redis URL as node-redis needs it: `redis://` or `rediss://` and a host. Checked here because the
 * client would connect an empty string to localhost:6379 (and write there), and answer `host:port` with
 * a bare `TypeError` from its own depths.
 */
function checkUrl(url: unknown): string {
  if (typeof url !== 'string' || url.trim() === '') {
    throw new ConfigError('client', 'the Redis URL is empty; set it, e.g. redis://127.0.0.1:6379 (REDIS_URL?).');
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (
    parsed === undefined ||
    (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') ||
    parsed.hostname === ''
  ) {
    const hint = /^[\w.-]+:\d+$/.test(url) ? ` — did you mean redis://${url}?` : '';
    throw new ConfigError(
      'client',
      `${JSON.stringify(url)} is not a Redis URL; use redis://host:port (or rediss:// for TLS)${hint}`,
    );
  }
  return url;
}

function ownSentinel(target: SentinelTarget): RedisSentinelClient {
  if (typeof target.name !== 'string' || target.name === '') {
    throw new ConfigError('client', 'a Sentinel target needs the master name, such as { name: "mymaster", … }.');
  }
  if (!Array.isArray(target.sentinels) || target.sentinels.length === 0) {
    throw new ConfigError('client', 'a Sentinel target needs at least one sentinel URL in `sentinels`.');
  }
  const sentinelRootNodes = target.sentinels.map((url) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new ConfigError('client', `sentinel ${JSON.stringify(url)} is not a URL such as redis://10.0.0.5:26379.`);
    }
    return { host: parsed.hostname, port: Number(parsed.port || 26379) };
  });
  // Sentinel's own client pool queues commands while it re-resolves the master after a failover; the
  // tier's per-call timeout still bounds how long any call waits.
  return redisModule().createSentinel({ name: target.name, sentinelRootNodes });
}

/** Whether a value is a {@link SentinelTarget} (rather than URLs or a client). */
export function isSentinelTarget(value: unknown): value is SentinelTarget {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'sentinels' in value;
}

/** Whether a client is a Cluster client (it knows its masters). */
export function isCluster(client: AnyRedisClient): client is RedisClusterClient {
  return 'masters' in client;
}

/** Whether a client is a Sentinel client (it can name the master it follows). */
export function isSentinel(client: AnyRedisClient): client is RedisSentinelClient {
  return typeof (client as RedisSentinelClient).getMasterNode === 'function';
}

/** Whether a value looks like a node-redis client (of any kind). */
export function isClient(value: unknown): value is AnyRedisClient {
  return typeof value === 'object' && value !== null && typeof (value as RedisClient).get === 'function';
}

/**
 * Whether a value is an ioredis (or iovalkey) client: `Redis` or `Cluster`. Their command surface differs
 * from node-redis's (options objects, reply shapes), so they are refused at construction rather than
 * failing on every call.
 */
export function isIoredisClient(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const client = value as { status?: unknown; options?: unknown; isOpen?: unknown; duplicate?: unknown };
  return typeof client.status === 'string' && typeof client.options === 'object' && client.isOpen === undefined;
}

/**
 * Closes a client the tier created. One still connecting (or reconnecting to a server that is down) is
 * destroyed rather than asked to quit, which would wait for a connection that may never come.
 */
export async function closeOwnedClient(
  client: AnyRedisClient,
  connecting: Promise<unknown> | undefined,
  timeoutMs: number,
): Promise<void> {
  if (connecting !== undefined) {
    // node-redis cannot abort a connection attempt: a client destroyed mid-connect finishes connecting
    // and keeps its socket. Let the attempt settle (for one call timeout at most), and make sure any
    // socket it still opens cannot keep the process alive.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      connecting,
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    client.unref();
  }
  if (!client.isReady) {
    destroyQuietly(client);
    return;
  }
  await client.close().catch(() => destroyQuietly(client));
}

/** Destroys a client whatever state it is in (node-redis throws when it is not open). */
function destroyQuietly(client: AnyRedisClient): void {
  try {
    client.destroy();
  } catch {
    // already closed
  }
}

/** An ioredis or iovalkey standalone client, as far as the tier recognises one (see `ioredis-adapter.ts`). */
export interface IoredisClient {
  readonly status: string;
  readonly options: object;
  duplicate(): unknown;
}

/** What an owned client connects to, for messages: URLs without their passwords. */
function describeTarget(target: string | readonly string[] | SentinelTarget): string {
  const strip = (url: string) =>
    url.replace(/\/\/([^@/]*)@/, (_, auth: string) => `//${auth.split(':')[0] ?? ''}:***@`);
  if (typeof target === 'string') return strip(target);
  if (isSentinelTarget(target)) return `Sentinel master ${target.name}`;
  return `the Cluster at ${target.map(strip).join(', ')}`;
}

/** The client a tier talks through, what it owns, and (for one it made) its connection's health. */
export interface TierClient {
  readonly client: AnyRedisClient;
  /** Whether the tier created it (and so closes it). */
  readonly owned: boolean;
  readonly health: ConnectionHealth | undefined;
  /** The connection attempt of an owned client (calls wait for it). */
  readonly connecting: Promise<unknown> | undefined;
}

/**
 * The client for what the caller passed: a client of its own for URLs or a Sentinel target (reporting its
 * connection trouble through `ready()` and `onError`, never a log), an ioredis / iovalkey standalone client
 * through the adapter, or a node-redis client as it is.
 * @throws ConfigError for an ioredis Cluster or anything else.
 */
export function resolveClient(
  given: AnyRedisClient | IoredisClient | string | readonly string[] | SentinelTarget,
  tier: string,
): TierClient {
  if (typeof given === 'string' || Array.isArray(given) || isSentinelTarget(given)) {
    const target = given as string | readonly string[] | SentinelTarget;
    const client = ownClient(target);
    const health = new ConnectionHealth(tier, describeTarget(target));
    client.on('error', (error: unknown) => health.failed(error));
    client.on('ready', () => health.up());
    const connecting = client.connect();
    connecting.then(
      () => health.up(),
      (error: unknown) => health.failed(error),
    );
    return { client, owned: true, health, connecting };
  }
  if (isIoredisClient(given)) {
    if (isIoredisCluster(given)) {
      throw new ConfigError(
        'client',
        'an ioredis Cluster is not supported; pass seed URLs (client: ["redis://…", …]) or a node-redis ' +
          'createCluster() client.',
      );
    }
    const client = new IoredisAdapter(given as unknown as IoredisLike) as unknown as AnyRedisClient;
    return { client, owned: false, health: undefined, connecting: undefined };
  }
  if (isClient(given)) return { client: given, owned: false, health: undefined, connecting: undefined };
  throw new ConfigError(
    'client',
    'expected a node-redis client, cluster or sentinel, an ioredis client, a redis:// URL, an array of URLs (a Cluster), or { name, sentinels }.',
  );
}
