/**
 * The Redis / Valkey shared tier, over node-redis (`@redis/client`): a standalone server or a Redis
 * Cluster (Sentinel through node-redis's `createSentinel`, which has the same command surface).
 *
 * Why node-redis: `npm run bench -- l2` measured its raw GET + JSON.parse at 1.5–1.8× ioredis's on this
 * machine (both pipelining), and tiercache over it at ~1.3× tiercache over ioredis. Its Cluster client
 * routes by slot, reaches each master for SCAN, and moves its pub/sub connection when a node goes.
 *
 * - Every call has a timeout and goes through a circuit breaker (`guard/guarded-calls.ts`), so a slow or
 *   dead server costs a bounded wait at most `failures` times, then nothing until a trial call succeeds.
 * - Values are envelopes (`entry.ts`): bytes that do not decode are a miss, counted in `corrupt`,
 *   never an exception; the next fill overwrites them.
 * - Keys are `<prefix><escaped physical key>` (`key-layout.ts`): no caller's braces become a hash tag.
 * - `clear()` never uses `KEYS` or `FLUSH*`: it SCANs every master with an escaped MATCH pattern and
 *   UNLINKs what it finds, on the node that holds it.
 * - Commands issued in one tick go out in one write: node-redis pipelines by itself.
 * - A client the tier creates does not queue commands while disconnected (`disableOfflineQueue`): a
 *   write queued during an outage and replayed later could overwrite newer data.
 * - Distributed single-flight: `tryLock` is `SET <prefix>l:<key> <token> NX PX <ttl>`; release is a
 *   compare-and-delete Lua script, so a holder whose lock expired cannot free someone else's. Waiters
 *   wake on a fill notification (`bus.ts`); the lock's expiry bounds every wait.
 */
import { randomUUID } from 'node:crypto';
import { decodeCounted, type Envelope, encodeEnvelope, type ReadCounters } from '../entry.js';
import { TierUnavailableError } from '../errors.js';
import type { BreakerState } from '../guard/circuit-breaker.js';
import { type CallCounters, GuardedCalls } from '../guard/guarded-calls.js';
import { parseDuration } from '../options/validate.js';
import type { Clock, Duration } from '../options.js';
import type { BusEvent, InvalidationMessage, LockHandle, SharedTier } from '../tier.js';
import { RedisBus } from './bus.js';
import {
  type AnyRedisClient,
  closeOwnedClient,
  type IoredisClient,
  isCluster,
  type RedisClient,
  type RedisClusterClient,
  type RedisSentinelClient,
  redisModule,
  resolveClient,
  type SentinelTarget,
} from './client.js';
import type { ConnectionHealth } from './connection-health.js';
import { type CopyReader, HotKeyReplicas } from './hot-key-replicas.js';
import {
  checkPrefix,
  escapeKey,
  keyTagsKey,
  lockKey,
  redisKey,
  redisPattern,
  tagEpochKey,
  tagKey,
  tagStampKey,
  versionKey,
} from './key-layout.js';
import { RedisLock } from './redis-lock.js';
import { scanAndUnlink } from './scan-clear.js';
import { LOAD_VERSION_TTL_MS, px, SCRIPTS, type ScriptName, SHAS, VERSION_TTL_MS } from './scripts.js';

export type { IoredisClient } from './client.js';

/** Options of {@link createRedisTier}. */
export interface RedisTierOptions {
  /**
   * A connected node-redis client, cluster or sentinel client you own, or an ioredis / iovalkey standalone
   * client (`new Redis(…)`; best with `enableOfflineQueue: false`); or, for a client the tier creates,
   * connects and closes: a `redis://` URL, an array of URLs (seed nodes of a Cluster), or
   * `{ name, sentinels }` (a master watched by Sentinel). A client you pass is never closed by the tier.
   */
  client:
    | RedisClient
    | RedisClusterClient
    | RedisSentinelClient
    | IoredisClient
    | string
    | readonly string[]
    | SentinelTarget;
  /** Prefix of every key. Default: `'tiercache:'`. No braces. */
  prefix?: string;
  /** Longest any call may take. Default: `'500ms'`. */
  timeout?: Duration;
  /** Consecutive failures that open the circuit breaker. Default: `5`. */
  breakerFailures?: number;
  /** How long the breaker stays open before a trial call. Default: `'5s'`. */
  breakerOpen?: Duration;
  /** Largest envelope stored or read, in bytes. Default: 1 MiB. */
  maxEntryBytes?: number;
  /** Clock for the breaker. Default: `Date.now`. */
  clock?: Clock;
}

/** Counters of a {@link RedisTier}. */
export interface RedisTierCounters extends CallCounters, ReadCounters {}

const DEFAULTS = {
  prefix: 'tiercache:',
  timeout: '500ms',
  breakerFailures: 5,
  breakerOpen: '5s',
  maxEntryBytes: 1024 * 1024,
};

/** The Redis shared tier. Create it with {@link createRedisTier}. */
export class RedisTier implements SharedTier {
  readonly name = 'redis';
  readonly counters: RedisTierCounters = { hits: 0, misses: 0, corrupt: 0, errors: 0, timeouts: 0 };
  readonly #client: AnyRedisClient;
  readonly #owned: boolean;
  /** The owned connection's state and failure reports (`undefined` for a client the caller passed). */
  readonly #health: ConnectionHealth | undefined;
  #closed = false;
  readonly #prefix: string;
  readonly #timeoutMs: number;
  readonly #maxBytes: number;
  /** Every command runs under the timeout and the breaker (see `guard/guarded-calls.ts`). */
  readonly #calls: GuardedCalls;
  readonly #bus: RedisBus;
  /** Hot-key copies on other masters; only on a Cluster. */
  readonly #replicas: HotKeyReplicas | undefined;
  /** {@link RedisTier.#decode}, bound once (not a closure per read). */
  readonly #decodeRaw = (raw: string | Buffer | null): Envelope | undefined => this.#decode(raw);
  /** What a hot key's copy read needs of the tier. */
  readonly #copyReader: CopyReader = {
    decode: (raw) => this.#decode(raw),
    owner: (key) => this.getVersioned(key),
    encode: (key, envelope) => encodeEnvelope(key, envelope, this.#maxBytes),
  };

  constructor(options: RedisTierOptions) {
    // Every option is checked before a client is created: a rejected option must not leave a connection.
    this.#prefix = checkPrefix(options.prefix ?? DEFAULTS.prefix, 'prefix');
    this.#timeoutMs = parseDuration(options.timeout ?? DEFAULTS.timeout, 'timeout');
    this.#maxBytes = options.maxEntryBytes ?? DEFAULTS.maxEntryBytes;
    this.#calls = new GuardedCalls(
      {
        tier: this.name,
        timeoutMs: this.#timeoutMs,
        breakerFailures: options.breakerFailures ?? DEFAULTS.breakerFailures,
        breakerOpenMs: parseDuration(options.breakerOpen ?? DEFAULTS.breakerOpen, 'breakerOpen'),
        clock: options.clock ?? { now: Date.now },
        isKeyError: isKeyReplyError,
      },
      this.counters,
    );
    const resolved = resolveClient(options.client, this.name);
    this.#client = resolved.client;
    this.#owned = resolved.owned;
    this.#health = resolved.health;
    if (resolved.connecting !== undefined) this.#calls.connectingThrough(resolved.connecting);
    this.#bus = new RedisBus(this.#client, this.#prefix);
    if (isCluster(this.#client)) {
      const replicas = new HotKeyReplicas(this.#client, this.#prefix, this.#calls);
      this.#replicas = replicas;
      this.#bus.onHot = (keys) => replicas.announced(keys, Date.now());
    }
  }

  /** Counters of the fill notifications and invalidation bus. */
  get bus(): RedisBus['counters'] {
    return this.#bus.counters;
  }

  /** The breaker's state now. */
  get breakerState(): BreakerState {
    return this.#calls.breakerState;
  }

  /** Times the breaker has opened. */
  get breakerOpened(): number {
    return this.#calls.breakerOpened;
  }

  /**
   * Resolves once the tier can talk to Redis; rejects with a `TierUnavailableError` that names the cause
   * (nothing listening, unknown host, refused credentials, TLS, no answer within `timeoutMs`). The cache
   * works without it — a tier that is down is read as misses — but a service should await it at start.
   */
  ready(timeoutMs = 5000): Promise<void> {
    if (this.#health !== undefined) return this.#health.ready(timeoutMs);
    const client = this.#client as { isReady?: boolean };
    return client.isReady === false
      ? Promise.reject(
          new TierUnavailableError(this.name, 'the client you passed is not connected; await client.connect() first.'),
        )
      : Promise.resolve();
  }

  /** Subscribes to connection failures (each kind reported once a minute at most); @returns unsubscribe. */
  onError(listener: (error: TierUnavailableError) => void): () => void {
    return this.#health?.onError(listener) ?? (() => {});
  }

  get(key: string): Promise<Envelope | undefined> {
    const replicas = this.#replicas;
    if (replicas?.isHot(key, Date.now())) {
      // Owner or one of the copies, at random: each master takes its share of the key's reads.
      const copies = replicas.copies(escapeKey(key), Date.now());
      const pick = Math.floor(Math.random() * (copies.length + 1));
      if (pick > 0) return replicas.read(key, copies[pick - 1] as string, this.#copyReader);
    }
    // Decoded inside the call's own reaction: the hit path has no promise layer it can do without.
    return this.#calls.call('GET', key, () => this.#client.get(redisKey(this.#prefix, key)), this.#decodeRaw);
  }

  /** The entry, its version and the tag epoch (see {@link fenceTags}), read before a load queries. */
  async getVersioned(key: string): Promise<{ envelope: Envelope | undefined; version: string; tagEpoch: string }> {
    // Two keys in one slot, and the epoch (a slot of its own on a Cluster): sent in one tick, one round trip.
    const [pair, epoch] = await Promise.all([
      this.#calls.call('MGET', key, () =>
        this.#client.mGet([redisKey(this.#prefix, key), versionKey(this.#prefix, key)]),
      ),
      this.#calls.call('GET epoch', key, () => this.#client.get(tagEpochKey(this.#prefix))),
    ]);
    if (!Array.isArray(pair) || pair.length !== 2) {
      // A reply that is not what MGET answers: the connection is not to be trusted, nor the reply.
      throw new TierUnavailableError(this.name, 'MGET returned a malformed reply.', { key });
    }
    const [raw, version] = pair;
    return { envelope: this.#decode(raw ?? null), version: String(version ?? '0'), tagEpoch: String(epoch ?? '0') };
  }

  async version(key: string): Promise<string> {
    return String((await this.#calls.call('GET', key, () => this.#client.get(versionKey(this.#prefix, key)))) ?? '0');
  }

  #decode(raw: string | Buffer | null): Envelope | undefined {
    return decodeCounted(raw, this.#maxBytes, this.counters);
  }

  /** A blind write (moves the version); the cache itself stores through {@link writeIfVersion}. */
  async set(key: string, envelope: Envelope, ttlMs: number): Promise<void> {
    const text = encodeEnvelope(key, envelope, this.#maxBytes);
    await this.#wrote(
      key,
      await this.#script('write', key, [text, px(ttlMs), String(VERSION_TTL_MS), ...(envelope.tags ?? [])]),
    );
  }

  async expire(key: string, at: number): Promise<void> {
    const moved = Number(await this.#script('expire', key, [String(at), String(VERSION_TTL_MS)]));
    if (moved > 0) await this.#wrote(key, moved);
  }

  async setIfVersion(
    key: string,
    envelope: Envelope,
    ttlMs: number,
    version: string,
    fence?: string,
  ): Promise<boolean> {
    const text = encodeEnvelope(key, envelope, this.#maxBytes);
    const keys = [...this.#keysOf(key), lockKey(this.#prefix, key)];
    const versionTtl = String(Math.max(LOAD_VERSION_TTL_MS, Math.ceil(ttlMs)));
    const args = [text, px(ttlMs), version, versionTtl, fence ?? '', ...(envelope.tags ?? [])];
    const moved = Number(await this.#script('storeIf', key, args, keys));
    if (moved <= 0) return false;
    await this.#wrote(key, moved);
    return true;
  }

  async writeIfVersion(key: string, envelope: Envelope, ttlMs: number, version: string): Promise<boolean> {
    const text = encodeEnvelope(key, envelope, this.#maxBytes);
    const args = [text, px(ttlMs), version, String(VERSION_TTL_MS), ...(envelope.tags ?? [])];
    const moved = Number(await this.#script('writeIf', key, args));
    await this.#wrote(key, Math.abs(moved));
    return moved > 0;
  }

  async delete(key: string): Promise<void> {
    await this.#wrote(key, await this.#script('remove', key, [String(VERSION_TTL_MS)]));
  }

  setHotKeys(keys: readonly string[]): void {
    const replicas = this.#replicas;
    if (replicas === undefined) return;
    replicas.setLocal(keys);
    if (keys.length > 0) void this.#bus.publishHot(keys);
  }

  /** After a write moved a key's version: if it is hot, tombstone its copies, so none serves the old value. */
  async #wrote(key: string, version: unknown): Promise<void> {
    await this.#replicas?.tombstone(key, String(version), Date.now());
  }

  async tagKeys(tag: string, keys: readonly string[], ttlMs: number): Promise<void> {
    await this.#script('tag', tag, [px(ttlMs), ...keys], [tagKey(this.#prefix, tag), tagStampKey(this.#prefix, tag)]);
  }

  /**
   * Before a load stores a value that carries `tags`: joins the key to each tag's set, and says whether
   * none of them was invalidated after `tagEpoch` (read before the load queried). Joining first closes the
   * race: an invalidation that stamps the tag later takes the key with it and moves its version.
   */
  async fenceTags(tags: readonly string[], key: string, ttlMs: number, tagEpoch: string): Promise<boolean> {
    const stamps = await Promise.all(
      tags.map((tag) =>
        this.#script('tag', tag, [px(ttlMs), key], [tagKey(this.#prefix, tag), tagStampKey(this.#prefix, tag)]),
      ),
    );
    const since = Number(tagEpoch);
    return stamps.every((stamp) => Number(stamp) <= since);
  }

  /** The tag epoch: moved by every tag invalidation (see {@link fenceTags}). */
  async tagEpoch(): Promise<string> {
    return String((await this.#calls.call('GET epoch', '', () => this.#client.get(tagEpochKey(this.#prefix)))) ?? '0');
  }

  /**
   * Forgets a tag, and removes every key of its set that still carries it (a key rewritten since without
   * the tag is left alone). @returns the keys removed, and those whose removal failed.
   */
  async takeTag(tag: string): Promise<{ removed: string[]; unconfirmed: string[] }> {
    const epoch = await this.#calls.call('INCR epoch', tag, () => this.#client.incr(tagEpochKey(this.#prefix)));
    const members = (await this.#script(
      'takeTag',
      tag,
      [String(epoch), String(LOAD_VERSION_TTL_MS)],
      [tagKey(this.#prefix, tag), tagStampKey(this.#prefix, tag)],
    )) as unknown[];
    const removed: string[] = [];
    const unconfirmed: string[] = [];
    // The set is gone now: a member whose removal fails is handed back, so it is not forgotten.
    await Promise.all(
      (Array.isArray(members) ? members : []).map(async (member) => {
        const key = String(member);
        try {
          const moved = Number(await this.#script('removeIfTagged', key, [tag, String(VERSION_TTL_MS)]));
          await this.#wrote(key, Math.abs(moved));
          if (moved > 0) removed.push(key);
        } catch (error) {
          if (!(error instanceof TierUnavailableError)) throw error;
          unconfirmed.push(key);
        }
      }),
    );
    return { removed, unconfirmed };
  }

  /**
   * Runs one of {@link SCRIPTS} on a key's value and version (or on `keys`): by hash, loading it on
   * first use.
   */
  #script(name: ScriptName, key: string, args: string[], keys = this.#keysOf(key)): Promise<unknown> {
    return this.#calls.call(name, key, async () => {
      try {
        return await this.#client.evalSha(SHAS[name], { keys, arguments: args });
      } catch (error) {
        // A server that has not seen the script yet (or was restarted, or a failover): send it whole.
        if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error;
        return this.#client.eval(SCRIPTS[name], { keys, arguments: args });
      }
    });
  }

  /** A key's value, version and tag-set keys: what the versioned scripts take. */
  #keysOf(key: string): string[] {
    return [redisKey(this.#prefix, key), versionKey(this.#prefix, key), keyTagsKey(this.#prefix, key)];
  }

  async clear(keyPrefix: string): Promise<void> {
    await scanAndUnlink(this.#calls, this.#client, redisPattern(this.#prefix, keyPrefix), keyPrefix);
  }

  async tryLock(key: string, ttlMs: number): Promise<LockHandle | undefined> {
    const lock = lockKey(this.#prefix, key);
    const token = randomUUID();
    const reply = await this.#calls.call('SET NX', key, () =>
      this.#client.set(lock, token, {
        expiration: { type: 'PX', value: Math.max(1, Math.ceil(ttlMs)) },
        condition: 'NX',
      }),
    );
    if (reply !== 'OK') return undefined;
    return new RedisLock(token, (script, args) =>
      this.#calls.call('lock', key, () => this.#client.eval(script, { keys: [lock], arguments: args })),
    );
  }

  waitForFill(key: string, timeoutMs: number): Promise<void> {
    return this.#bus.waitForFill(key, timeoutMs);
  }

  announceFill(key: string): Promise<void> {
    return this.#bus.announceFill(key);
  }

  publishInvalidation(message: InvalidationMessage): void {
    this.#bus.publish(message);
  }

  invalidationsSent(): Promise<void> {
    return this.#bus.sent();
  }

  onInvalidation(handler: (event: BusEvent) => void, origin?: string): () => void {
    return this.#bus.onInvalidation(handler, origin);
  }

  /** Closes what the tier opened; idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#calls.close();
    await this.#bus.close();
    if (!this.#owned) return;
    await closeOwnedClient(this.#client, this.#calls.connecting, this.#timeoutMs);
  }
}

/** Whether a command failed because of one key's contents (WRONGTYPE), not the server or the network. */
function isKeyReplyError(cause: unknown): boolean {
  const error = cause as Error | undefined;
  // node-redis's ErrorReply, or ioredis's ReplyError (given an ioredis client).
  const reply = error?.name === 'ReplyError' || (error !== undefined && error instanceof redisModule().ErrorReply);
  return reply && error.message.includes('WRONGTYPE');
}

/**
 * Creates a Redis shared tier.
 * @example
 * const l2 = createRedisTier({ client: 'redis://127.0.0.1:6379' });
 * // or your own client: createRedisTier({ client: await createClient({ url }).connect() })
 */
export function createRedisTier(options: RedisTierOptions): RedisTier {
  return new RedisTier(options);
}
