/**
 * The public API's types: the cache, its loaders and events. The implementation is `cache.ts` (the
 * facade) and the paths in this folder; this file holds only what a caller sees.
 */

import type { TierCacheError } from '../errors.js';
import type { HealthReport } from '../metrics/health.js';
import type { CacheStats } from '../metrics/stats.js';
import type { CallOptions, Duration } from '../options.js';

/** What a loader is given. */
export interface LoaderContext {
  /** The caller's key (without any namespace). */
  readonly key: string;
  /** Aborted when the cache closes; pass it to your database driver or `fetch`. */
  readonly signal: AbortSignal;
  /**
   * Overrides the TTL of the value being loaded, e.g. from a row's own freshness. Validated like the
   * `ttl` option; an invalid TTL throws a `ConfigError` inside the loader.
   */
  setTtl(ttl: Duration): void;
  /** Tags the value being loaded (replacing the call's `tags`), e.g. from the row it came from. */
  setTags(tags: readonly string[]): void;
  /**
   * The value being replaced when it is past its TTL but within `grace` (`undefined` otherwise): for a
   * conditional refresh, or to return when the source says nothing changed.
   */
  readonly stale: unknown;
  /**
   * Whether this is a background refresh of a value still fresh (refresh-ahead, XFetch, a hot key's
   * re-read) that no caller was waiting on when it started: callers are being served the current value.
   */
  readonly refreshing: boolean;
}

/**
 * Produces the value for a key on a miss — typically a database query. Returning `undefined` caches
 * nothing (the next call loads again); returning `null` caches the absence for `nullTtl`.
 */
export type Loader<T> = (context: LoaderContext) => T | Promise<T>;

/**
 * Loads many keys at once — typically one `WHERE id = ANY(…)` query. Returns the values it found, as a
 * Map or a plain object keyed by the caller's keys; missing keys are simply absent.
 */
export type BatchLoader<T> = (
  keys: string[],
  context: { readonly signal: AbortSignal },
) =>
  | Promise<ReadonlyMap<string, T> | Readonly<Record<string, T>>>
  | ReadonlyMap<string, T>
  | Readonly<Record<string, T>>;

/** A key read hot right now (see `Cache.hotKeys`). */
export interface HotKey {
  /** The caller's key. */
  readonly key: string;
  /** Its namespace path, `/` for the root. */
  readonly namespace: string;
  /** Estimated reads per second, across the cache. */
  readonly rate: number;
  /** Estimated share of all reads, 0–1. */
  readonly share: number;
}

/** Events a cache emits. */
export interface CacheEvents {
  /** The sliding-window hit rate fell below `health.threshold`; the report says why. */
  lowHitRate: (report: HealthReport) => void;
  /**
   * Something the cache absorbed but you should know of, reported once per namespace and kind: a loaded
   * value the shared tier cannot hold (a class instance, too large; `InvalidValueError` /
   * `ValueTooLargeError`: the caller got it, only the L1 keeps it). Never thrown at a caller.
   */
  error: (error: TierCacheError) => void;
}

/** A cache, or an isolated namespace view of one. Every method is safe to call concurrently. */
export interface Cache {
  /**
   * Cache-aside read: the cached value if there is one, else the loader's, which is then cached.
   * Concurrent calls for one key run the loader once and share its outcome.
   *
   * Values come back **by reference** (the object the cache holds) unless the cache was created with
   * `copyOnRead: true`; do not mutate them.
   *
   * @throws InvalidKeyError (as a rejection) for an invalid key.
   * @throws LoaderError when the loader throws; nothing is cached and the next call retries.
   * @throws CacheClosedError after `close()`.
   */
  getOrLoad<T>(key: string, loader: Loader<T>, options?: CallOptions): Promise<T>;
  /**
   * Batch cache-aside: values for many keys, in the order given. L1 answers what it can; the rest is
   * looked up in L2 in one round trip per node; what is still missing goes to **one** `loadMany` call
   * with exactly those keys. Keys already loading (by `getOrLoad` or another batch) are joined, not
   * loaded twice. A key `loadMany` leaves out comes back `undefined` and is not cached.
   */
  getOrLoadMany<T>(
    keys: readonly string[],
    loadMany: BatchLoader<T>,
    options?: CallOptions,
  ): Promise<(T | undefined)[]>;
  /** The cached value, or `undefined`. Never loads. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /**
   * Caches a value. A load of the key already in flight will not overwrite it. On a versioned shared tier
   * the write is conditional (it reads the key's version first), so a write that reaches Redis late —
   * after a timeout here, from a partition that healed — can never land over a newer one.
   * @returns what happened in the shared tier: `'stored'`, `'invalidated'` (another write raced it, the
   *   key was removed everywhere) or `'deferred'` (the tier did not confirm it; the key is removed there
   *   once it answers again). See {@link WriteOutcome}.
   * @throws InvalidValueError for `undefined` (use `delete`); ValueTooLargeError over `maxEntryBytes`
   *   (any older value is removed, so a refused write never leaves the previous one in place).
   */
  set<T>(key: string, value: T, options?: CallOptions): Promise<WriteOutcome>;
  /**
   * Removes every entry written (or loaded) with any of `tags` in this namespace, in every tier and, over
   * the bus, in every instance's L1. @returns how many keys carried them.
   */
  invalidateTags(tags: readonly string[]): Promise<number>;
  /** Removes a key. A load of the key already in flight will not store its result. @returns whether it was cached. */
  delete(key: string): Promise<boolean>;
  /**
   * Marks a key expired but keeps it for `grace`: the next read loads, and if that load fails the old
   * value can still be served (fail-safe). Other instances drop their L1 copies.
   */
  expire(key: string): Promise<void>;
  /**
   * Write-through: `persist(value)` first (your database write), then the cache, then other instances
   * are told. If `persist` throws, the cache is untouched and the error is rethrown as is.
   * @returns what happened in the shared tier, as for {@link Cache.set}.
   */
  writeThrough<T>(key: string, value: T, persist: (value: T) => unknown, options?: CallOptions): Promise<WriteOutcome>;
  /** Whether a live value is cached for the key. Does not count as a read. */
  has(key: string): Promise<boolean>;
  /**
   * When the value cached for the key stops being fresh, in ms on the cache's clock (epoch ms with the
   * default clock), or `undefined` if no live value is cached. Does not count as a read.
   */
  expiresAt(key: string): Promise<number | undefined>;
  /** Removes every key of this namespace — on the root cache, every key of every namespace. */
  clear(): Promise<void>;
  /**
   * Resolves once the invalidations this cache has made so far (deletes, writes, tags, clears) have left
   * for the other instances over the shared tier's bus — at once without a bus. Never rejects. For code
   * that must not report a change applied before every instance was told, such as a change stream
   * confirming a transaction to the database.
   */
  invalidationsSent(): Promise<void>;
  /**
   * Counters since creation for this namespace and the namespaces nested in it (the root covers
   * all), with miss causes and hit-rate health (the window's verdict for this path); plus cache-wide
   * latency percentiles.
   */
  stats(): CacheStats;
  /**
   * The keys read hot right now (estimated rate ≥ `hotKeys.minRate` and share ≥ `hotKeys.minShare`
   * over the detection window), hottest first: this namespace's, or on the root every namespace's.
   * Empty with `hotKeys: false`.
   */
  hotKeys(): HotKey[];
  /**
   * Subscribes to an event. `lowHitRate` fires (at most once per sixth of the health window) while the
   * sliding-window hit rate is below `health.threshold`, with a diagnosis. Nothing is logged otherwise.
   */
  on<E extends keyof CacheEvents>(event: E, listener: CacheEvents[E]): void;
  /** Unsubscribes a listener added with {@link Cache.on}. */
  off<E extends keyof CacheEvents>(event: E, listener: CacheEvents[E]): void;
  /** Aborts loads in flight (through their `signal`), drops the memory tier, and refuses further calls. */
  close(): Promise<void>;
  /** An isolated view: its keys never meet the keys of the parent or of other namespaces. Nestable. */
  namespace(name: string): Cache;
}

/**
 * What a write did, as `set` and `writeThrough` report it:
 *
 * - `'stored'`: every tier holds the value (or there is no shared tier);
 * - `'invalidated'`: another write raced this one in the shared tier, and nobody can tell whose database
 *   write landed last, so the key was removed everywhere instead; the next read loads;
 * - `'deferred'`: the shared tier did not confirm the write (down, or timed out): this instance holds the
 *   value, and the key is removed from the shared tier as soon as it answers again, so no instance
 *   keeps serving what the write replaced.
 */
export type WriteOutcome = 'stored' | 'invalidated' | 'deferred';
