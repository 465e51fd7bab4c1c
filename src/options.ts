/**
 * The options users write: the one cache options type, per-call options, durations and clocks. Their
 * defaults and validation are in `options/resolve.ts`, done once at construction.
 */
import type { SharedTier } from './tier.js';

/** A logger the cache can warn through: pino, bunyan, `console`, or anything with `warn`. */
export interface CacheLogger {
  warn(object: { err: Error }, message: string): void;
}

/**
 * A duration: milliseconds as a number, or a string with a unit — `'250ms'`, `'300s'`, `'5m'`, `'24h'`,
 * `'7d'`. Must be finite and greater than zero.
 */
export type Duration = number | string;

/** A source of wall-clock time in milliseconds. Inject one in tests so they never sleep. */
export interface Clock {
  /** Milliseconds since an arbitrary, fixed origin; must never go backwards. */
  now(): number;
}

/** Bounds and behaviour of the in-process memory tier (L1). At least one bound is required. */
export interface MemoryTierOptions {
  /** Most entries the L1 holds. No default: give this, `maxBytes`, or both. */
  maxEntries?: number;
  /** Most estimated bytes (see {@link CacheOptions.weigher}) the L1 holds. No default. */
  maxBytes?: number;
}

/** Options of {@link createCache}. Only `ttl` is required. */
export interface CacheOptions {
  /**
   * Default time to live of every entry. **Required**: a cache without a TTL serves stale data forever.
   * Zero, negative, NaN and infinite values are refused.
   */
  ttl: Duration;
  /** TTL of cached `null` values (negative caching). Default: `ttl`. */
  nullTtl?: Duration;
  /**
   * Spread expiries of keys written together: each write's TTL is scaled by a random factor in
   * `[1 − ttlJitter, 1 + ttlJitter]`. A fraction in `[0, 1)`. Default: `0` (no jitter).
   */
  ttlJitter?: number;
  /** Longest key accepted, in UTF-8 bytes. Default: `1024`. */
  maxKeyLength?: number;
  /**
   * Heaviest value cached, in estimated bytes (see `weigher`). A heavier value from a loader is returned
   * to the caller but not cached, and counted in `stats().refusedTooLarge`. Default: 1 MiB.
   */
  maxEntryBytes?: number;
  /**
   * By default the cache hands out the very object it holds (fast, allocation-free), so callers must not
   * mutate what they get. With `copyOnRead: true` the cache keeps its own `structuredClone` of every value
   * written and gives each reader a fresh clone. Default: `false`.
   */
  copyOnRead?: boolean;
  /**
   * The in-process memory tier, or `false` for none. Default: `{ maxEntries: 10_000 }`. An object with
   * neither `maxEntries` nor `maxBytes` is refused: an unbounded L1 is a memory leak.
   */
  l1?: MemoryTierOptions | false;
  /**
   * Estimates a value's size in bytes, for `maxEntryBytes` and `l1.maxBytes`. Default: a structural
   * estimate of V8's heap use (strings 2 bytes a character, numbers 8, objects by their fields).
   */
  weigher?: (value: unknown) => number;
  /** Time source. Default: `Date.now()`, read at most once a millisecond (see `clock.ts`). */
  clock?: Clock;
  /** Random source in `[0, 1)`, used for jitter, hash seeds and admission tie-breaks. Default: `Math.random`. */
  random?: () => number;
  /**
   * Keep latency histograms, miss causes (a log of recently removed keys, ~40 bytes per remembered key,
   * 3 × `l1.maxEntries` of them) and the hit-rate health check. Counters are always kept. Default: `true`.
   */
  stats?: boolean;
  /** When to warn about a low hit rate (the `lowHitRate` event). */
  health?: HealthOptions;
  /**
   * A shared tier (L2) behind the memory tier, e.g. `createRedisTier({ client })`. Reads that miss L1
   * look here before loading; loads and writes fill it; deletes and clears reach it. Its failures are
   * counted and absorbed: reads fall through to the loader. Default: none.
   */
  l2?: SharedTier;
  /**
   * Distributed single-flight over the shared tier (when it supports locks): on an L2 miss, one
   * instance takes the key's lock and loads; the others wait for its fill notification and read L2.
   * `ttl` bounds how long a crashed holder blocks others; after `wait` without the value, an instance
   * loads by itself rather than hang. `false` turns it off. Default: `{ ttl: '5s', wait: '5s' }`.
   */
  lock?: { ttl?: Duration; wait?: Duration } | false;
  /**
   * Fail-safe: how long past its TTL a value is kept, to be served (as *stale*) when the loader throws,
   * passes `softTimeout`, or `maxConcurrentLoads` is reached. The shared tier keeps entries for
   * TTL + grace. Default: none (an expired value is gone).
   */
  grace?: Duration;
  /**
   * After a failed load served a stale value, the stale value counts as fresh for this long, so a
   * failing database is asked again at most once per backoff per key (per instance). Default: `'30s'`.
   */
  graceBackoff?: Duration;
  /**
   * When a stale value exists and the loader has not answered after this long, callers get the stale
   * value; the loader goes on in the background and fills the cache when it answers. Default: none.
   */
  softTimeout?: Duration;
  /**
   * The longest any caller waits on a loader: then callers get the stale value if there is one, else a
   * `TimeoutError`, and the loader's `signal` is aborted. Default: none.
   */
  hardTimeout?: Duration;
  /**
   * At the hard timeout, let the load finish in the background and fill the cache (FusionCache's
   * background completion) instead of aborting its `signal`. The callers still get the stale value or
   * the `TimeoutError` at once. Default: `false`.
   */
  backgroundCompletion?: boolean;
  /**
   * Probabilistic early expiration (XFetch): a hit shortly before expiry refreshes the key in the
   * background with probability `exp(−timeLeft / (loadTime × beta))`, so a popular key is reloaded by one
   * caller before it expires, instead of by a herd after. `false` turns it off. Default: `{ beta: 1 }`.
   */
  earlyRefresh?: { beta?: number } | false;
  /**
   * Refresh-ahead (Caffeine's refreshAfterWrite): a hit within `window` of a key's expiry, on a key read
   * at least `minReads` times recently (the frequency sketch's estimate), reloads it in the background,
   * so keys read often never go missing and keys read rarely just expire. At most `concurrency`
   * refreshes run at once; their failures reach no caller and are counted. Default: off.
   */
  refreshAhead?: { window: Duration; concurrency?: number; minReads?: number } | false;
  /**
   * Most loader calls running at once in this instance. Beyond it, callers get a stale value if there is
   * one, else an `OverloadedError` at once: the database is shielded even from a burst of distinct cold
   * keys. Default: no limit.
   */
  maxConcurrentLoads?: number;
  /**
   * Where the cache reports what it absorbed (its `error` events: a shared tier that cannot connect, a
   * loaded value the shared tier cannot hold), as `logger.warn({ err }, message)` — pino's and bunyan's
   * shape; `console` works too. Default: none (listen with `cache.on('error', …)`).
   */
  logger?: CacheLogger;
  /**
   * Hot-key detection (`cache.hotKeys()`): one read in `sampleEvery` feeds a decaying count-min sketch
   * (32 KiB) with `capacity` candidates; a key is hot when its estimated rate over the last `window` is
   * at least `minRate` reads/s and `minShare` of all reads. `false` turns it off. Default:
   * `{ window: '10s', l1Ttl: '5s', minRate: 1000, minShare: 0.01, sampleEvery: 16, capacity: 32 }`. Hot keys
   * are also always admitted to (and kept in) the L1, and replicated across Redis Cluster masters.
   */
  hotKeys?: HotKeyOptions | false;
}

/** Settings of hot-key detection (see `CacheOptions.hotKeys`). */
export interface HotKeyOptions {
  window?: Duration;
  /**
   * With a shared tier: the longest a hot key's L1 copy counts as fresh before it is re-read from L2 (in
   * the background, ahead of time, while callers keep hitting L1), so a lost invalidation leaves a hot
   * key stale for this long at most. Default: `'5s'`.
   */
  l1Ttl?: Duration;
  minRate?: number;
  minShare?: number;
  sampleEvery?: number;
  capacity?: number;
}

/** Settings of the hit-rate health check. */
export interface HealthOptions {
  /** Warn when the window's hit rate is below this fraction. Default: `0.9`. */
  threshold?: number;
  /** Length of the sliding window. Default: `'60s'`. */
  window?: Duration;
  /** Give no verdict on fewer reads than this in the window. Default: `1000`. */
  minRequests?: number;
  /**
   * Share of one core the miss-ratio curve's simulations may use, in (0, 1]. Past it they sample fewer
   * keys (a coarser curve) rather than take more. Default: `0.03`.
   */
  curveBudget?: number;
}

/** Per-call options; each overrides the cache's option of the same name for this call only. */
export interface CallOptions {
  /** Time to live of the entry this call writes. */
  ttl?: Duration;
  /** TTL if the value written is `null`. */
  nullTtl?: Duration;
  /** TTL jitter fraction for this write. */
  ttlJitter?: number;
  /**
   * Tags of the entry this call writes (or loads): `invalidateTags([tag])` removes every entry carrying
   * one. Tags belong to the namespace they are written in. At most 32, each 1–256 characters.
   */
  tags?: readonly string[];
  /**
   * Refresh-ahead for this call, in place of the cache's `refreshAhead`: a hit within `window` of the
   * key's expiry, on a key read at least `minReads` times recently (default: the cache's, else 2),
   * reloads it in the background with this call's loader. `window` may be a function of the cached value
   * (cache-manager's `refreshThreshold`); it is called on such hits only. `false`: no refresh-ahead for
   * this call. Runs within the cache's `refreshAhead.concurrency` (default 4).
   */
  refreshAhead?: CallRefreshAhead | false;
}

/** Per-call refresh-ahead (see {@link CallOptions.refreshAhead}). */
export interface CallRefreshAhead {
  /** How close to expiry a hit reloads; or a function of the cached value giving it. */
  // (`never`: any one-argument function is accepted, whatever the type of value it expects.)
  window: Duration | ((value: never) => Duration);
  minReads?: number;
}
