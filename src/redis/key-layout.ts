/**
 * How physical keys (see `keys.ts`) become Redis keys: `<prefix><escaped physical key>`.
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

/** The Redis key of a physical key. */
export function redisKey(prefix: string, physical: string): string {
  return prefix + escapeKey(physical);
}

/** A SCAN MATCH pattern for every Redis key whose physical key starts with `physicalPrefix`. */
export function redisPattern(prefix: string, physicalPrefix: string): string {
  return `${redisKey(prefix, physicalPrefix).replace(GLOB_SPECIAL, '\\$&')}*`;
}
