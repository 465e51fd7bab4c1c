/**
 * How physical keys (see `keys.ts`) become Redis keys and channels:
 *
 * - value: `<prefix>d:<escaped physical key>`
 * - lock:  `<prefix>l:<escaped physical key>`
 * - channels: `<prefix>fill` (a value landed; waiters wake) and `<prefix>bus` (invalidations)
 *
 * The one-letter kinds keep values and locks apart whatever the caller's key says.
 *
 * Escaping percent-encodes `%`, `{` and `}`. Without it, a caller's `{…}` would become a Redis Cluster
 * hash tag and pin unrelated keys to one slot (and one node); with it, every key hashes on its whole
 * name. Percent-encoding `%` itself keeps the mapping injective, so distinct physical keys stay
 * distinct Redis keys. Glob characters need no escaping in keys; they are escaped only in the SCAN
 * patterns that `clear()` uses, so `*` in a key never widens a clear.
 */
import { ConfigError } from '../errors.js';

const NEEDS_ESCAPE = /[%{}]/;
const ESCAPES: Record<string, string> = { '%': '%25', '{': '%7B', '}': '%7D' };
const GLOB_SPECIAL = /[*?[\]\\]/g;

/** Checks a key prefix: non-empty, and without braces (which would make it a hash tag). */
export function checkPrefix(prefix: unknown, option: string): string {
  if (typeof prefix !== 'string' || prefix.length === 0 || /[{}]/.test(prefix)) {
    throw new ConfigError(
      option,
      `expected a non-empty string without { or }, such as 'tiercache:', got ${JSON.stringify(prefix)}.`,
    );
  }
  return prefix;
}

/** Escapes a physical key for use inside a Redis key. */
export function escapeKey(physical: string): string {
  return NEEDS_ESCAPE.test(physical) ? physical.replace(/[%{}]/g, (c) => ESCAPES[c] as string) : physical;
}

/** The Redis key holding a physical key's value. */
export function redisKey(prefix: string, physical: string): string {
  return `${prefix}d:${escapeKey(physical)}`;
}

/** The Redis key of a physical key's load lock. */
export function lockKey(prefix: string, physical: string): string {
  return `${prefix}l:${escapeKey(physical)}`;
}

/** The channel announcing that a key's value has landed. */
export function fillChannel(prefix: string): string {
  return `${prefix}fill`;
}

/** The invalidation bus channel. */
export function busChannel(prefix: string): string {
  return `${prefix}bus`;
}

/** A SCAN MATCH pattern for every value key whose physical key starts with `physicalPrefix`. */
export function redisPattern(prefix: string, physicalPrefix: string): string {
  return `${redisKey(prefix, physicalPrefix).replace(GLOB_SPECIAL, '\\$&')}*`;
}
