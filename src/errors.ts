/**
 * Typed errors. Every error tiercache throws or rejects with is a {@link TierCacheError}: it carries a
 * stable `code` to branch on, the cache `key` when one is involved, and the underlying `cause`. Messages
 * say what to change, not only what went wrong.
 */

/** Stable machine-readable error codes. */
export type TierCacheErrorCode =
  | 'ERR_TIERCACHE_CONFIG'
  | 'ERR_TIERCACHE_INVALID_KEY'
  | 'ERR_TIERCACHE_INVALID_VALUE'
  | 'ERR_TIERCACHE_VALUE_TOO_LARGE'
  | 'ERR_TIERCACHE_LOADER'
  | 'ERR_TIERCACHE_TIMEOUT'
  | 'ERR_TIERCACHE_OVERLOADED'
  | 'ERR_TIERCACHE_TIER_UNAVAILABLE'
  | 'ERR_TIERCACHE_CLOSED';

/** Base class of every error tiercache produces. */
export class TierCacheError extends Error {
  /** Stable code, safe to compare against. */
  readonly code: TierCacheErrorCode;
  /** The cache key involved, when there is one. */
  readonly key: string | undefined;

  constructor(code: TierCacheErrorCode, message: string, options?: { key?: string; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.key = options?.key;
  }
}

/** An option is missing or out of range. Thrown at construction (or for per-call options, at the call). */
export class ConfigError extends TierCacheError {
  /** The option path that is wrong, e.g. `ttl` or `l1.maxEntries`. */
  readonly option: string;

  constructor(option: string, message: string) {
    super('ERR_TIERCACHE_CONFIG', `Invalid option \`${option}\`: ${message}`);
    this.option = option;
  }
}

/** A key is not a non-empty, well-formed string within `maxKeyLength` bytes. */
export class InvalidKeyError extends TierCacheError {
  constructor(key: unknown, reason: string) {
    super('ERR_TIERCACHE_INVALID_KEY', `Invalid cache key ${describeKey(key)}: ${reason}`, {
      key: typeof key === 'string' ? key : undefined,
    });
  }
}

/** A value cannot be cached at all (e.g. `undefined` passed to `set`, or an uncloneable value with `copyOnRead`). */
export class InvalidValueError extends TierCacheError {
  constructor(key: string, reason: string, cause?: unknown) {
    super('ERR_TIERCACHE_INVALID_VALUE', `Cannot cache the value for key ${describeKey(key)}: ${reason}`, {
      key,
      cause,
    });
  }
}

/** A value weighs more than `maxEntryBytes`; it was not cached (and any older copy was dropped). */
export class ValueTooLargeError extends TierCacheError {
  /** The estimated size of the refused value in bytes. */
  readonly bytes: number;
  /** The limit it exceeded. */
  readonly limit: number;

  constructor(key: string, bytes: number, limit: number) {
    super(
      'ERR_TIERCACHE_VALUE_TOO_LARGE',
      `The value for key ${describeKey(key)} weighs about ${bytes} bytes, over maxEntryBytes (${limit}). ` +
        'Cache a smaller projection of it, or raise `maxEntryBytes`.',
      { key },
    );
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** The loader threw or rejected. Nothing was cached; the next call for the key retries. */
export class LoaderError extends TierCacheError {
  constructor(key: string, cause: unknown) {
    super(
      'ERR_TIERCACHE_LOADER',
      `The loader for key ${describeKey(key)} failed: ${cause instanceof Error ? cause.message : String(cause)}`,
      { key, cause },
    );
  }
}

/**
 * A loader did not answer within `hardTimeout` and no stale value could stand in. Its `signal` has been
 * aborted. Raise `hardTimeout`, make the loader faster, or set `grace` so a stale value can be served.
 */
export class TimeoutError extends TierCacheError {
  constructor(key: string, timeoutMs: number) {
    super(
      'ERR_TIERCACHE_TIMEOUT',
      `The loader for key ${describeKey(key)} did not answer within the hard timeout of ${timeoutMs} ms; its signal was aborted.`,
      { key },
    );
  }
}

/**
 * `maxConcurrentLoads` loads were already running in this instance and no stale value could stand in.
 * Retry later, raise the limit, or set `grace` so stale values can be served under load.
 *
 * It carries no stack trace: under overload it is thrown by the thousand, capturing a stack was a third
 * of a refusal's cost (measured), and the message already names the key and the limit.
 */
export class OverloadedError extends TierCacheError {
  constructor(key: string, limit: number) {
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(
        'ERR_TIERCACHE_OVERLOADED',
        `Not loading key ${describeKey(key)}: ${limit} loads are already running (maxConcurrentLoads); retry later.`,
        { key },
      );
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
  }
}

/**
 * A shared tier (L2) did not answer: its circuit breaker is open, the call timed out, or the server
 * returned an error. The cache counts these and falls through to the loader; callers never see them
 * from `getOrLoad`.
 */
export class TierUnavailableError extends TierCacheError {
  /** Which tier, e.g. `redis`. */
  readonly tier: string;

  constructor(tier: string, reason: string, options?: { key?: string; cause?: unknown }) {
    super('ERR_TIERCACHE_TIER_UNAVAILABLE', `The ${tier} tier is unavailable: ${reason}`, options);
    this.tier = tier;
  }
}

/** The cache was closed; create a new one. */
export class CacheClosedError extends TierCacheError {
  constructor(key?: string) {
    super('ERR_TIERCACHE_CLOSED', 'The cache is closed; create a new cache with createCache().', { key });
  }
}

const SHOWN_KEY_CHARS = 80;

function describeKey(key: unknown): string {
  if (typeof key !== 'string') return `(a ${key === null ? 'null' : typeof key}, not a string)`;
  const shown = key.length > SHOWN_KEY_CHARS ? `${key.slice(0, SHOWN_KEY_CHARS)}…` : key;
  return JSON.stringify(shown);
}
