/**
 * How physical keys (see `keys.ts`) become Redis keys and channels:
 *
 * - value:   `<prefix>d:{<escaped physical key>}`
 * - version: `<prefix>v:{<escaped physical key>}` (bumped by every write; loads store only if unchanged)
 * - lock:    `<prefix>l:{<escaped physical key>}`
 * - its tags: `<prefix>g:{<escaped physical key>}`, the tags the key was last written with
 * - tag stamp: `<prefix>a:{<escaped physical tag>}`, the tag epoch of the tag's last invalidation
 * - tag epoch: `<prefix>e`, moved by every tag invalidation (loads read it before they query)
 * - tag:     `<prefix>t:{<escaped physical tag>}`, a set of the physical keys carrying the tag
 * - channels: `<prefix>fill` (a value landed; waiters wake) and `<prefix>bus` (invalidations)
 *
 * The one-letter kinds keep values, versions and locks apart whatever the caller's key says. The braces
 * are a Redis Cluster hash tag around the escaped key: a key's value, version and lock share one slot,
 * so one Lua script can read and write them together (compare-and-set against the version).
 *
 * Escaping percent-encodes `%`, `{` and `}`. Without it, a caller's `{…}` would end the hash tag early
 * and pin unrelated keys to one slot; with it, the tag is always the whole escaped key, so keys spread
 * over the slots by their whole name. Percent-encoding `%` itself keeps the mapping injective, so
 * distinct physical keys stay distinct Redis keys. (Physical keys are never empty, so the tag never is.) Glob characters need no escaping in keys; they are escaped only in the SCAN
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
  return `${prefix}d:{${escapeKey(physical)}}`;
}

/** The Redis key holding a physical key's write version (same slot as its value). */
export function versionKey(prefix: string, physical: string): string {
  return `${prefix}v:{${escapeKey(physical)}}`;
}

/** The Redis set of the physical keys carrying a (physical, namespaced) tag. */
export function tagKey(prefix: string, physicalTag: string): string {
  return `${prefix}t:{${escapeKey(physicalTag)}}`;
}

/** The Redis set of the tags a physical key was last written with (same slot as its value). */
export function keyTagsKey(prefix: string, physical: string): string {
  return `${prefix}g:{${escapeKey(physical)}}`;
}

/** When a (physical) tag was last invalidated, as a tag epoch (same slot as the tag's set). */
export function tagStampKey(prefix: string, physicalTag: string): string {
  return `${prefix}a:{${escapeKey(physicalTag)}}`;
}

/** The tag epoch: a counter every tag invalidation moves (one key per prefix). */
export function tagEpochKey(prefix: string): string {
  return `${prefix}e`;
}

/** The Redis key of a physical key's load lock (same slot as its value). */
export function lockKey(prefix: string, physical: string): string {
  return `${prefix}l:{${escapeKey(physical)}}`;
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
  return `${`${prefix}d:{${escapeKey(physicalPrefix)}`.replace(GLOB_SPECIAL, '\\$&')}*`;
}
