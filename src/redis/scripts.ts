/**
 * The Lua scripts of the Redis tier. Each runs atomically on the slot of one key, whose value, version,
 * lock and tag set share a hash tag (`key-layout.ts`): that is what makes a store conditional on the
 * version and the lock's token (fencing), a write move the version with the value, and a tag
 * invalidation stamp the tag and take its set in one step. Scripts are sent by hash (EVALSHA) and whole
 * on NOSCRIPT.
 */
import { createHash } from 'node:crypto';

/** Deletes the lock only if it still holds this holder's token. */
export const RELEASE_SCRIPT =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";
/** Extends the lock (ARGV: token, px) only if it still holds this holder's token. */
export const EXTEND_SCRIPT =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end";
/**
 * How long a key's version outlives its last write. A load that read version '0' (never written) and
 * runs longer than this after a write could store old data; loads are bounded by seconds in practice.
 */
export const VERSION_TTL_MS = 60 * 60 * 1000;
/**
 * How long a version a load's store moved lives at least (or the entry's lifetime, if longer; never less
 * than a write left it): every loaded key keeps one, so this is shorter than a write's. A load that read
 * the version before it moved and stalls longer than this could store; a load under the lock is fenced
 * by its token as well.
 */
export const LOAD_VERSION_TTL_MS = 10 * 60 * 1000;
/**
 * The versioned writes, as Lua scripts over a key's value (KEYS[1]), version (KEYS[2]) and the set of
 * tags it was written with (KEYS[3]), all in one slot. Every write replaces the key's tag set (a key
 * rewritten without a tag no longer carries it), and every write moves the version.
 */
const SET_TAGS = `redis.call('DEL', KEYS[3])
if #ARGV > TAGS then redis.call('SADD', KEYS[3], unpack(ARGV, TAGS + 1)) redis.call('PEXPIRE', KEYS[3], ARGV[2]) end`;
const withTags = (first: number) => SET_TAGS.replaceAll('TAGS', String(first - 1));
export const SCRIPTS = {
  /** A write: move the version, store. ARGV: payload, px, version ttl, tags… Returns the new version. */
  write: `local v = redis.call('INCR', KEYS[2]) redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) ${withTags(4)} return v`,
  /** A delete: move the version, remove. ARGV: version ttl. */
  remove: `local v = redis.call('INCR', KEYS[2]) redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('UNLINK', KEYS[1]) redis.call('DEL', KEYS[3]) return v`,
  /**
   * A load's fenced store (KEYS[4]: the key's lock). Refused (0) if the version moved since the load read
   * it, or (-1) if the load ran under a lock (ARGV[5], its token) that it no longer holds. A store moves
   * the version too, so a load that started before it — a paused lock holder resuming — cannot land over
   * it. ARGV: payload, px, version, version ttl, token or '', tags… Returns the new version.
   */
  storeIf: `if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[3] then return 0 end
if ARGV[5] ~= '' and redis.call('GET', KEYS[4]) ~= ARGV[5] then return -1 end
local v = redis.call('INCR', KEYS[2])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[4]) then redis.call('PEXPIRE', KEYS[2], ARGV[4]) end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) ${withTags(6)} return v`,
  /**
   * Adds keys to a tag's set (KEYS[1]) and makes it live at least px; returns the tag's stamp (KEYS[2]):
   * the epoch of its last invalidation, or 0. ARGV: px, keys…
   */
  tag: `redis.call('SADD', KEYS[1], unpack(ARGV, 2))
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return tonumber(redis.call('GET', KEYS[2]) or '0')`,
  /**
   * The first step of a tag invalidation: stamp the tag (KEYS[2]) with the new epoch (ARGV[1], for
   * ARGV[2] ms), then take its set (KEYS[1]). Atomic: a load that joins the set after this sees the stamp.
   */
  takeTag: `redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
local members = redis.call('SMEMBERS', KEYS[1]) redis.call('UNLINK', KEYS[1]) return members`,
  /**
   * A write-through's store: as `write` if unraced, else as `remove`. ARGV: payload, px, version, version
   * ttl, tags… Returns the new version, negated when it removed instead of storing.
   */
  writeIf: `local seen = redis.call('GET', KEYS[2]) or '0'
local v = redis.call('INCR', KEYS[2]) redis.call('PEXPIRE', KEYS[2], ARGV[4])
if seen == ARGV[3] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) ${withTags(5)} return v end
redis.call('UNLINK', KEYS[1]) redis.call('DEL', KEYS[3]) return -v`,
  /**
   * A tag invalidation of one key of the tag's set: the version always moves (a load of the key in flight,
   * which may carry the tag, cannot store), the value goes only if the key still carries the tag. ARGV:
   * tag, version ttl. Returns the new version, negated if the value stayed.
   */
  removeIfTagged: `local v = redis.call('INCR', KEYS[2]) redis.call('PEXPIRE', KEYS[2], ARGV[2])
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 0 then return -v end
redis.call('UNLINK', KEYS[1]) redis.call('DEL', KEYS[3]) return v`,
  /**
   * Marks an entry expired now (ARGV[1]) but keeps it for its grace (KEEPTTL): the envelope's second field
   * is its expiry (see entry.ts), rewritten in place so value and tags stay as they are. Moves the
   * version: a load that began before cannot store. Returns the new version, or 0 if there was nothing
   * fresh to expire.
   */
  expire: `local raw = redis.call('GET', KEYS[1]) if not raw then return 0 end
local head, at, rest = string.match(raw, '^%[(%d+),([^,]+),(.*)$')
if not head or (tonumber(at) or 0) <= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], '[' .. head .. ',' .. ARGV[1] .. ',' .. rest, 'KEEPTTL')
local v = redis.call('INCR', KEYS[2]) redis.call('PEXPIRE', KEYS[2], ARGV[2]) return v`,
} as const;
export type ScriptName = keyof typeof SCRIPTS;
export const SHAS = Object.fromEntries(
  Object.entries(SCRIPTS).map(([name, source]) => [name, createHash('sha1').update(source).digest('hex')]),
) as Record<ScriptName, string>;

/** A TTL in whole milliseconds, at least 1, as Redis wants it. */
export const px = (ttlMs: number): string => String(Math.max(1, Math.ceil(ttlMs)));
