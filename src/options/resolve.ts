/**
 * Options resolved: every default in one place, and validation done once at construction. Per-call
 * options are resolved against the cache's resolved options with the same validators
 * (`validate.ts`). The option types users write are in `../options.ts`.
 */
import { CoarseClock } from '../clock.js';
import { ConfigError } from '../errors.js';
import { estimateSize } from '../memory/weigher.js';
import type {
  CacheLogger,
  CacheOptions,
  CallOptions,
  CallRefreshAhead,
  Clock,
  Duration,
  HealthOptions,
  HotKeyOptions,
  MemoryTierOptions,
} from '../options.js';
import type { SharedTier } from '../tier.js';
import {
  boolean,
  describe,
  jitterFraction,
  optionalDuration,
  parseDuration,
  positiveInteger,
  rejectUnknown,
} from './validate.js';

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
  readonly health: {
    readonly threshold: number;
    readonly windowMs: number;
    readonly minRequests: number;
    readonly curveBudget: number;
  };
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
  readonly logger: CacheLogger | undefined;
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
  health: { threshold: 0.9, window: '60s', minRequests: 1000, curveBudget: 0.03 },
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
  'logger',
]);
const HEALTH_OPTION_NAMES = new Set<string>(['threshold', 'window', 'minRequests', 'curveBudget']);
const L1_OPTION_NAMES = new Set<string>(['maxEntries', 'maxBytes']);
const CALL_OPTION_NAMES = new Set<string>(['ttl', 'nullTtl', 'ttlJitter', 'tags', 'refreshAhead']);
const MAX_TAGS = 32;
const MAX_TAG_LENGTH = 256;

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
  const { threshold, window, minRequests, curveBudget } = value as HealthOptions;
  if (threshold !== undefined && (typeof threshold !== 'number' || !(threshold > 0 && threshold <= 1))) {
    throw new ConfigError('health.threshold', `expected a fraction in (0, 1], got ${String(threshold)}.`);
  }
  if (curveBudget !== undefined && (typeof curveBudget !== 'number' || !(curveBudget > 0 && curveBudget <= 1))) {
    throw new ConfigError(
      'health.curveBudget',
      `expected a share of one core in (0, 1], such as 0.03, got ${String(curveBudget)}.`,
    );
  }
  return {
    threshold: threshold ?? DEFAULTS.health.threshold,
    windowMs: parseDuration(window ?? DEFAULTS.health.window, 'health.window'),
    minRequests:
      minRequests === undefined ? DEFAULTS.health.minRequests : positiveInteger(minRequests, 'health.minRequests'),
    curveBudget: curveBudget ?? DEFAULTS.health.curveBudget,
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

function resolveLogger(value: unknown): CacheLogger | undefined {
  if (value === undefined) return undefined;
  if (typeof (value as Partial<CacheLogger> | null)?.warn !== 'function') {
    throw new ConfigError('logger', 'expected an object with a warn() method, such as a pino logger or console.');
  }
  return value as CacheLogger;
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
    logger: resolveLogger(options.logger),
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
  if ('refreshAhead' in call && call.refreshAhead !== undefined) checkCallRefreshAhead(call.refreshAhead);
  return {
    ttl,
    // A call that shortens ttl without naming nullTtl keeps the cache's nullTtl unless that is longer.
    nullTtl: call.nullTtl === undefined ? Math.min(base.nullTtl, ttl) : parseDuration(call.nullTtl, 'nullTtl'),
    ttlJitter: call.ttlJitter === undefined ? base.ttlJitter : jitterFraction(call.ttlJitter, 'ttlJitter'),
    ...(call.tags === undefined ? {} : { tags: checkTags(call.tags, 'tags') }),
  };
}

/** @throws ConfigError for a per-call `refreshAhead` that is not `false` or `{ window, minReads? }`. */
function checkCallRefreshAhead(value: unknown): void {
  if (value === false) return;
  if (typeof value !== 'object' || value === null || (value as { window?: unknown }).window === undefined) {
    throw new ConfigError('refreshAhead', "expected { window, minReads? } (e.g. { window: '10s' }) or false.");
  }
  rejectUnknown(value, new Set(['window', 'minReads']), 'refreshAhead.');
  const { window, minReads } = value as CallRefreshAhead;
  if (typeof window !== 'function') parseDuration(window, 'refreshAhead.window');
  if (minReads !== undefined) positiveInteger(minReads, 'refreshAhead.minReads');
}

/**
 * A per-call refresh-ahead window in ms for a hit on `value` (validated on the key's miss; here a
 * window that is not a valid duration — a function's odd answer — is no window: 0).
 */
export function callAheadMs(option: CallRefreshAhead | false, value: unknown): number {
  if (option === false) return 0;
  let window = option.window;
  if (typeof window === 'function') {
    try {
      window = (window as (value: unknown) => Duration)(value);
    } catch {
      return 0; // a hit must not fail for the refresh it might start
    }
  }
  try {
    return parseDuration(window, 'refreshAhead.window');
  } catch {
    return 0;
  }
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
