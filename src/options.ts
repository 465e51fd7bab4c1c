/**
 * Options: the one options type, every default in one place, and validation done once at construction.
 * Per-call options are resolved against the cache's resolved options with the same validators.
 */
import { CoarseClock } from './clock.js';
import { ConfigError } from './errors.js';
import { estimateSize } from './memory/weigher.js';
import type { SharedTier } from './tier.js';

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
}

/** Options after defaults and validation; durations in milliseconds. */
export interface ResolvedOptions {
  readonly ttl: number;
  readonly nullTtl: number;
  readonly ttlJitter: number;
  readonly maxKeyLength: number;
  readonly maxEntryBytes: number;
  readonly copyOnRead: boolean;
  readonly l1: { readonly maxEntries: number; readonly maxBytes: number } | false;
  readonly weigher: (value: unknown) => number;
  readonly clock: Clock;
  readonly random: () => number;
  readonly stats: boolean;
  readonly health: { readonly threshold: number; readonly windowMs: number; readonly minRequests: number };
  readonly l2: SharedTier | undefined;
  readonly lock: { readonly ttlMs: number; readonly waitMs: number } | false;
  /** 0 when fail-safe is off. */
  readonly graceMs: number;
  readonly graceBackoffMs: number;
  /** `Infinity` when unset. */
  readonly softTimeoutMs: number;
  readonly hardTimeoutMs: number;
  readonly backgroundCompletion: boolean;
  /** 0 when early refresh is off. */
  readonly beta: number;
  /** Refresh-ahead, or `undefined` when off. */
  readonly refreshAhead:
    | { readonly windowMs: number; readonly concurrency: number; readonly minReads: number }
    | undefined;
  readonly maxConcurrentLoads: number;
  /** Hot-key detection, or `undefined` when off. */
  readonly hotKeys:
    | {
        readonly windowMs: number;
        readonly l1TtlMs: number;
        readonly minRate: number;
        readonly minShare: number;
        readonly sampleEvery: number;
        readonly capacity: number;
      }
    | undefined;
}

/** Every default, in one place. */
export const DEFAULTS = {
  maxKeyLength: 1024,
  maxEntryBytes: 1024 * 1024,
  ttlJitter: 0,
  copyOnRead: false,
  l1: { maxEntries: 10_000 },
  stats: true,
  health: { threshold: 0.9, window: '60s', minRequests: 1000 },
  lock: { ttl: '5s', wait: '5s' },
  graceBackoff: '30s',
  beta: 1,
  refreshAheadConcurrency: 4,
  refreshAheadMinReads: 2,
  hotKeys: { window: '10s', l1Ttl: '5s', minRate: 1000, minShare: 0.01, sampleEvery: 16, capacity: 32 },
} as const;

const CACHE_OPTION_NAMES = new Set<string>([
  'ttl',
  'nullTtl',
  'ttlJitter',
  'maxKeyLength',
  'maxEntryBytes',
  'copyOnRead',
  'l1',
  'weigher',
  'clock',
  'random',
  'stats',
  'health',
  'l2',
  'lock',
  'grace',
  'graceBackoff',
  'softTimeout',
  'hardTimeout',
  'backgroundCompletion',
  'earlyRefresh',
  'refreshAhead',
  'maxConcurrentLoads',
  'hotKeys',
]);
const HEALTH_OPTION_NAMES = new Set<string>(['threshold', 'window', 'minRequests']);
const L1_OPTION_NAMES = new Set<string>(['maxEntries', 'maxBytes']);
const CALL_OPTION_NAMES = new Set<string>(['ttl', 'nullTtl', 'ttlJitter', 'tags']);
const MAX_TAGS = 32;
const MAX_TAG_LENGTH = 256;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/;

/**
 * Parses a {@link Duration} into milliseconds.
 * @throws ConfigError naming `option` when the value is missing, not finite, or not above zero.
 */
export function parseDuration(value: unknown, option: string): number {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string') {
    const match = DURATION_PATTERN.exec(value);
    if (match === null) {
      throw new ConfigError(
        option,
        `${JSON.stringify(value)} is not a duration; use milliseconds or a string such as '300s', '5m' or '24h'.`,
      );
    }
    ms = Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  } else {
    throw new ConfigError(
      option,
      value === undefined
        ? 'it is required; every entry needs a TTL (e.g. 300_000 or "5m").'
        : `expected milliseconds or a string such as '5m', got ${typeof value}.`,
    );
  }
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new ConfigError(option, `a TTL must be finite and above zero, got ${String(value)}.`);
  }
  return ms;
}

function positiveInteger(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(option, `expected a whole number above zero, got ${String(value)}.`);
  }
  return value;
}

function jitterFraction(value: unknown, option: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new ConfigError(option, `expected a fraction in [0, 1), got ${String(value)}.`);
  }
  return value;
}

function boolean(value: unknown, option: string): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(option, `expected true or false, got ${String(value)}.`);
  return value;
}

function rejectUnknown(given: object, known: Set<string>, where: string): void {
  for (const name of Object.keys(given)) {
    if (!known.has(name)) {
      throw new ConfigError(`${where}${name}`, `unknown option; the known ones are ${[...known].join(', ')}.`);
    }
  }
}

function resolveL1(value: unknown): ResolvedOptions['l1'] {
  if (value === false) return false;
  if (value === undefined) return { maxEntries: DEFAULTS.l1.maxEntries, maxBytes: Number.POSITIVE_INFINITY };
  if (typeof value !== 'object' || value === null) {
    throw new ConfigError('l1', 'expected an object such as { maxEntries: 10_000 }, or false for no L1.');
  }
  rejectUnknown(value, L1_OPTION_NAMES, 'l1.');
  const { maxEntries, maxBytes } = value as MemoryTierOptions;
  if (maxEntries === undefined && maxBytes === undefined) {
    throw new ConfigError(
      'l1',
      'an unbounded memory tier grows until the process dies; set l1.maxEntries, l1.maxBytes, or both.',
    );
  }
  return {
    maxEntries: maxEntries === undefined ? Number.POSITIVE_INFINITY : positiveInteger(maxEntries, 'l1.maxEntries'),
    maxBytes: maxBytes === undefined ? Number.POSITIVE_INFINITY : positiveInteger(maxBytes, 'l1.maxBytes'),
  };
}

function resolveHealth(value: unknown): ResolvedOptions['health'] {
  if (value === undefined) value = {};
  if (typeof value !== 'object' || value === null) {
    throw new ConfigError('health', 'expected an object such as { threshold: 0.9, window: "60s" }.');
  }
  rejectUnknown(value, HEALTH_OPTION_NAMES, 'health.');
  const { threshold, window, minRequests } = value as HealthOptions;
  if (threshold !== undefined && (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 1))) {
    throw new ConfigError('health.threshold', `expected a fraction in (0, 1], got ${String(threshold)}.`);
  }
  return {
    threshold: threshold ?? DEFAULTS.health.threshold,
    windowMs: parseDuration(window ?? DEFAULTS.health.window, 'health.window'),
    minRequests:
      minRequests === undefined ? DEFAULTS.health.minRequests : positiveInteger(minRequests, 'health.minRequests'),
  };
}

function resolveLock(value: unknown): ResolvedOptions['lock'] {
  if (value === false) return false;
  if (value === undefined) value = {};
  if (typeof value !== 'object' || value === null) {
    throw new ConfigError('lock', "expected { ttl, wait } (e.g. { ttl: '5s' }) or false.");
  }
  rejectUnknown(value, new Set(['ttl', 'wait']), 'lock.');
  const { ttl, wait } = value as { ttl?: Duration; wait?: Duration };
  const ttlMs = parseDuration(ttl ?? DEFAULTS.lock.ttl, 'lock.ttl');
  return { ttlMs, waitMs: wait === undefined ? ttlMs : parseDuration(wait, 'lock.wait') };
}

function resolveEarlyRefresh(value: unknown): number {
  if (value === false) return 0;
  if (value === undefined) return DEFAULTS.beta;
  if (typeof value !== 'object' || value === null) {
    throw new ConfigError('earlyRefresh', 'expected { beta } (e.g. { beta: 1 }) or false.');
  }
  rejectUnknown(value, new Set(['beta']), 'earlyRefresh.');
  const { beta } = value as { beta?: number };
  if (beta === undefined) return DEFAULTS.beta;
  if (typeof beta !== 'number' || !(beta > 0 && Number.isFinite(beta))) {
    throw new ConfigError(
      'earlyRefresh.beta',
      `expected a finite number above 0 (1 is the usual), got ${String(beta)}.`,
    );
  }
  return beta;
}

function resolveRefreshAhead(value: unknown): ResolvedOptions['refreshAhead'] {
  if (value === undefined || value === false) return undefined;
  if (typeof value !== 'object' || value === null || (value as { window?: unknown }).window === undefined) {
    throw new ConfigError(
      'refreshAhead',
      "expected { window, concurrency?, minReads? } (e.g. { window: '10s' }) or false.",
    );
  }
  rejectUnknown(value, new Set(['window', 'concurrency', 'minReads']), 'refreshAhead.');
  const { window, concurrency, minReads } = value as { window: Duration; concurrency?: number; minReads?: number };
  return {
    windowMs: parseDuration(window, 'refreshAhead.window'),
    concurrency:
      concurrency === undefined
        ? DEFAULTS.refreshAheadConcurrency
        : positiveInteger(concurrency, 'refreshAhead.concurrency'),
    minReads:
      minReads === undefined ? DEFAULTS.refreshAheadMinReads : positiveInteger(minReads, 'refreshAhead.minReads'),
  };
}

function resolveHotKeys(value: unknown): ResolvedOptions['hotKeys'] {
  if (value === false) return undefined;
  const given = value ?? {};
  if (typeof given !== 'object' || given === null) {
    throw new ConfigError('hotKeys', 'expected { window?, minRate?, minShare?, sampleEvery?, capacity? } or false.');
  }
  rejectUnknown(given, new Set(['window', 'l1Ttl', 'minRate', 'minShare', 'sampleEvery', 'capacity']), 'hotKeys.');
  const d = DEFAULTS.hotKeys;
  const o = given as HotKeyOptions;
  const sampleEvery =
    o.sampleEvery === undefined ? d.sampleEvery : positiveInteger(o.sampleEvery, 'hotKeys.sampleEvery');
  const minRate = o.minRate ?? d.minRate;
  if (typeof minRate !== 'number' || !(minRate >= 0 && Number.isFinite(minRate))) {
    throw new ConfigError('hotKeys.minRate', `expected reads per second ≥ 0, got ${String(minRate)}.`);
  }
  const minShare = o.minShare ?? d.minShare;
  if (typeof minShare !== 'number' || !(minShare >= 0 && minShare <= 1)) {
    throw new ConfigError('hotKeys.minShare', `expected a fraction from 0 to 1, got ${String(minShare)}.`);
  }
  return {
    windowMs: parseDuration(o.window ?? d.window, 'hotKeys.window'),
    l1TtlMs: parseDuration(o.l1Ttl ?? d.l1Ttl, 'hotKeys.l1Ttl'),
    minRate,
    minShare,
    sampleEvery,
    capacity: o.capacity === undefined ? d.capacity : positiveInteger(o.capacity, 'hotKeys.capacity'),
  };
}

function optionalDuration(value: unknown, option: string): number {
  return value === undefined ? Number.POSITIVE_INFINITY : parseDuration(value, option);
}

function resolveL2(value: unknown): SharedTier | undefined {
  if (value === undefined) return undefined;
  const tier = value as Partial<SharedTier>;
  for (const method of ['get', 'set', 'delete', 'clear', 'close'] as const) {
    if (typeof tier?.[method] !== 'function') {
      throw new ConfigError('l2', `expected a shared tier such as createRedisTier({ client }); it has no ${method}().`);
    }
  }
  return value as SharedTier;
}

/** Validates cache options and fills in defaults. Call once, at construction. */
export function resolveOptions(options: CacheOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError('options', 'createCache needs an options object with at least a ttl, e.g. { ttl: "5m" }.');
  }
  rejectUnknown(options, CACHE_OPTION_NAMES, '');
  const ttl = parseDuration(options.ttl, 'ttl');
  const { weigher, clock, random } = options;
  if (weigher !== undefined && typeof weigher !== 'function') {
    throw new ConfigError('weigher', 'expected a function (value) => bytes.');
  }
  if (clock !== undefined && typeof clock?.now !== 'function') {
    throw new ConfigError('clock', 'expected an object with a now() method returning milliseconds.');
  }
  if (random !== undefined && typeof random !== 'function') {
    throw new ConfigError('random', 'expected a function returning a number in [0, 1).');
  }
  return {
    ttl,
    nullTtl: options.nullTtl === undefined ? ttl : parseDuration(options.nullTtl, 'nullTtl'),
    ttlJitter: options.ttlJitter === undefined ? DEFAULTS.ttlJitter : jitterFraction(options.ttlJitter, 'ttlJitter'),
    maxKeyLength:
      options.maxKeyLength === undefined
        ? DEFAULTS.maxKeyLength
        : positiveInteger(options.maxKeyLength, 'maxKeyLength'),
    maxEntryBytes:
      options.maxEntryBytes === undefined
        ? DEFAULTS.maxEntryBytes
        : positiveInteger(options.maxEntryBytes, 'maxEntryBytes'),
    copyOnRead: options.copyOnRead === undefined ? DEFAULTS.copyOnRead : boolean(options.copyOnRead, 'copyOnRead'),
    l1: resolveL1(options.l1),
    weigher: weigher ?? estimateSize,
    clock: clock ?? new CoarseClock(),
    random: random ?? Math.random,
    stats: options.stats === undefined ? DEFAULTS.stats : boolean(options.stats, 'stats'),
    health: resolveHealth(options.health),
    l2: resolveL2(options.l2),
    lock: resolveLock(options.lock),
    graceMs: options.grace === undefined ? 0 : parseDuration(options.grace, 'grace'),
    graceBackoffMs: parseDuration(options.graceBackoff ?? DEFAULTS.graceBackoff, 'graceBackoff'),
    softTimeoutMs: optionalDuration(options.softTimeout, 'softTimeout'),
    hardTimeoutMs: optionalDuration(options.hardTimeout, 'hardTimeout'),
    backgroundCompletion:
      options.backgroundCompletion === undefined
        ? false
        : boolean(options.backgroundCompletion, 'backgroundCompletion'),
    beta: resolveEarlyRefresh(options.earlyRefresh),
    refreshAhead: resolveRefreshAhead(options.refreshAhead),
    hotKeys: resolveHotKeys(options.hotKeys),
    maxConcurrentLoads:
      options.maxConcurrentLoads === undefined
        ? Number.POSITIVE_INFINITY
        : positiveInteger(options.maxConcurrentLoads, 'maxConcurrentLoads'),
  };
}

/** The write-time settings of one call: cache options overridden by the call's own. */
export interface WriteSettings {
  readonly ttl: number;
  readonly nullTtl: number;
  readonly ttlJitter: number;
  readonly tags?: readonly string[];
}

/** Resolves per-call options against the cache's. Returns the cache's own settings object when none are given. */
export function resolveCallOptions(
  base: ResolvedOptions,
  call: CallOptions | WriteSettings | undefined,
): WriteSettings {
  if (call === undefined || call === base) return base;
  if (typeof call !== 'object' || call === null) {
    throw new ConfigError('options', 'per-call options must be an object such as { ttl: "30s" }.');
  }
  rejectUnknown(call, CALL_OPTION_NAMES, '');
  const ttl = call.ttl === undefined ? base.ttl : parseDuration(call.ttl, 'ttl');
  return {
    ttl,
    // A call that shortens ttl without naming nullTtl keeps the cache's nullTtl unless that is longer.
    nullTtl: call.nullTtl === undefined ? Math.min(base.nullTtl, ttl) : parseDuration(call.nullTtl, 'nullTtl'),
    ttlJitter: call.ttlJitter === undefined ? base.ttlJitter : jitterFraction(call.ttlJitter, 'ttlJitter'),
    ...(call.tags === undefined ? {} : { tags: checkTags(call.tags, 'tags') }),
  };
}

/**
 * Checks a list of tags: an array of 1–256-character strings, at most 32.
 * @throws ConfigError naming `option`.
 */
export function checkTags(tags: unknown, option: string): readonly string[] {
  if (!Array.isArray(tags) || tags.length > MAX_TAGS) {
    throw new ConfigError(option, `expected an array of at most ${MAX_TAGS} tags, got ${describe(tags)}.`);
  }
  for (const tag of tags) {
    if (typeof tag !== 'string' || tag.length === 0 || tag.length > MAX_TAG_LENGTH) {
      throw new ConfigError(
        option,
        `each tag must be a string of 1 to ${MAX_TAG_LENGTH} characters, got ${describe(tag)}.`,
      );
    }
  }
  return tags;
}

function describe(value: unknown): string {
  return typeof value === 'string'
    ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
    : String(value);
}
