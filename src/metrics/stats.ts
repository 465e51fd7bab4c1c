/**
 * Counters kept on the read and write paths, per namespace, and the snapshot `cache.stats()` returns.
 * Counters are plain number fields bumped inline: the L1 hit path pays one increment, nothing more.
 */
import type { HealthReport } from './health.js';
import type { LatencySummaries } from './latency.js';

/** Mutable running totals of one namespace. Internal: the public view is {@link CacheStats}. */
export class Counters {
  l1Hits = 0;
  l1Misses = 0;
  /** Reads the shared tier answered (every caller of the flight counts). */
  l2Hits = 0;
  /** Shared-tier lookups that found nothing usable (one per flight). */
  l2Misses = 0;
  /** Shared-tier calls that failed (timeouts, errors, open breaker); the read went on to the loader. */
  l2Errors = 0;
  /** Values loaded but not written to the shared tier (not plain data, or too large for it). */
  l2Refused = 0;
  /** Shared-tier entries read but not usable here (`copyOnRead` could not copy them): the read loaded. */
  l2Unusable = 0;
  /**
   * Writes (set, delete, expire, write-through, tag invalidations) the shared tier did not confirm: the
   * key is removed from it once it answers again (see `l2Repaired`).
   */
  l2Deferred = 0;
  /** Keys removed from the shared tier after it came back, because a write there had not been confirmed. */
  l2Repaired = 0;
  /** Loads that waited for another instance's lock instead of loading. */
  lockWaits = 0;
  /** Waits that ran out (`lock.wait`) and loaded locally after all. */
  lockTimeouts = 0;
  /** Misses on keys never cached, or gone too long to remember. */
  missCold = 0;
  /** Misses on keys that were cached and had expired. */
  missExpired = 0;
  /** Sum over expired misses of the time between the entry's expiry and the re-read, in ms. */
  expiredGapMs = 0;
  /** Misses on keys evicted to make room, or seen recently but not admitted. */
  missEvicted = 0;
  /** Evicted misses a tier twice / four times the size would have served (shadow estimate). */
  evictedWithin2x = 0;
  evictedWithin4x = 0;
  /** Misses on keys removed by delete, set-refusal or clear. */
  missInvalidated = 0;
  /** L1 entries evicted or expired (a namespace's own share of the L1's figures, for its health). */
  l1Removed = 0;
  /** Of those, entries never read again after they were cached. */
  l1RemovedUnread = 0;
  loads = 0;
  loadErrors = 0;
  collapsed = 0;
  refusedTooLarge = 0;
  superseded = 0;
  /** Callers answered with a stale value (fail-safe). */
  staleServed = 0;
  /** Loads that passed `softTimeout` (stale served) or `hardTimeout`. */
  loadTimeouts = 0;
  /** Loads refused by `maxConcurrentLoads`. */
  overloaded = 0;
  /** Background refreshes started (early expiration). */
  refreshes = 0;
  /** Background refreshes (and loads finishing after a soft timeout) that failed; no caller saw them. */
  refreshErrors = 0;
  /** Loaded values not stored because the key's shared-tier version moved while they loaded (a write won). */
  staleLoadsDropped = 0;
  /** Write-throughs that found another write racing them, and invalidated the key instead of storing. */
  writeConflicts = 0;
}

/** Counter names, for summing and differencing without listing them twice. */
export const COUNTER_NAMES = Object.keys(new Counters()) as (keyof Counters)[];

/** Adds `from` into `into`, field by field. */
export function addCounters(into: Counters, from: Counters): Counters {
  for (const name of COUNTER_NAMES) into[name] += from[name];
  return into;
}

/** `later − earlier`, field by field. */
export function subtractCounters(later: Counters, earlier: Counters): Counters {
  const delta = new Counters();
  for (const name of COUNTER_NAMES) delta[name] = later[name] - earlier[name];
  return delta;
}

/** Why reads missed. */
export interface MissCauses {
  /** Never cached (or removed too long ago to remember): first reads. */
  readonly cold: number;
  /** Cached once, expired before the re-read. */
  readonly expired: number;
  /** Read before and evicted to make room (or, under TinyLFU admission, never admitted for lack of room). */
  readonly evicted: number;
  /** Cached once, removed by `delete`, `clear` or a refused `set`. */
  readonly invalidated: number;
}

/** Hit and miss figures of the memory tier. */
export interface MemoryTierStats {
  /** Reads the L1 answered. */
  readonly hits: number;
  /** Reads the L1 could not answer. */
  readonly misses: number;
  /** `hits / (hits + misses)`, or 0 before any read. */
  readonly hitRate: number;
  /** Entries held now, across all namespaces (including expired ones not yet swept). */
  readonly entries: number;
  /** Estimated bytes held now, across all namespaces. */
  readonly bytes: number;
  /** Entries removed to make room, across all namespaces. */
  readonly evictions: number;
  /** Entries removed because their TTL ran out, across all namespaces. */
  readonly expirations: number;
  /** Entries that left (evicted or expired) without being read again: one-hit wonders. */
  readonly removedUnread: number;
  /** The admission window's share of the capacity, as the window tuner has set it (1 is LRU). */
  readonly windowFraction: number;
}

/** Figures of the shared tier. */
export interface SharedTierStats {
  /** The tier's name, e.g. `redis`. */
  readonly name: string;
  /** Reads it answered. */
  readonly hits: number;
  /** Lookups that found nothing usable (including undecodable bytes). */
  readonly misses: number;
  /** Calls that failed and were absorbed (the read went on to the loader). */
  readonly errors: number;
  /** Loaded values kept out of it: not plain data, or too large. */
  readonly refused: number;
  /** Entries it held that could not be used here (`copyOnRead` could not copy them); the read loaded. */
  readonly unusable: number;
  /** Writes it did not confirm (it was down or timed out); each such key is removed once it answers. */
  readonly deferred: number;
  /** Keys removed after it came back, for writes it had not confirmed. */
  readonly repaired: number;
  /** Keys (cache-wide) whose writes it has not confirmed yet, waiting for their repair. */
  readonly pending: number;
  /** Loads that waited for another instance holding the key's lock. */
  readonly lockWaits: number;
  /** Waits that ran out and loaded locally. */
  readonly lockTimeouts: number;
}

/** Figures of the invalidation bus (cache-wide). */
export interface BusStats {
  /** Invalidations received from other instances. */
  readonly received: number;
  /** Gaps seen (lost messages or reconnects); each dropped the whole L1. */
  readonly gaps: number;
}

/** Figures of freshness and fail-safe: stale serving, timeouts, load limits, early refresh. */
export interface FreshnessStats {
  /** Callers answered with a stale value because the loader failed, timed out, or was over its limit. */
  readonly staleServed: number;
  /** Loads that passed `softTimeout` or `hardTimeout`. */
  readonly timeouts: number;
  /** Loads refused by `maxConcurrentLoads`. */
  readonly overloaded: number;
  /** Background refreshes started by early expiration (XFetch). */
  readonly refreshes: number;
  /** Background loads that failed (no caller saw the error). */
  readonly refreshErrors: number;
  /**
   * Loaded values not stored because a write moved the key's version while they loaded: the stale-set
   * race, closed. (Loads overtaken by a write in this instance count as `superseded`.)
   */
  readonly staleLoadsDropped: number;
  /** Write-throughs raced by another write: the key was invalidated rather than stored. */
  readonly writeConflicts: number;
}

/** A snapshot of a cache's (or a namespace's) counters. */
export interface CacheStats {
  /** The namespace path these figures cover, `/` for the root (which covers every namespace). */
  readonly namespace: string;
  /** Reads answered from a cache tier. */
  readonly hits: number;
  /** Reads no tier could answer (each `getOrLoad` miss then loads or joins a load). */
  readonly misses: number;
  /** `hits / (hits + misses)`, or 0 before any read. */
  readonly hitRate: number;
  /** Why the misses missed. */
  readonly missCauses: MissCauses;
  /** The memory tier's figures; `undefined` when the cache has no L1. */
  readonly l1: MemoryTierStats | undefined;
  /** The shared tier's figures; `undefined` when the cache has no L2. */
  readonly l2: SharedTierStats | undefined;
  /** The invalidation bus's figures; `undefined` without a bus. */
  readonly bus: BusStats | undefined;
  /** Loader calls started. */
  readonly loads: number;
  /** Loader calls that threw or rejected. */
  readonly loadErrors: number;
  /** `getOrLoad` calls that joined a load already in flight instead of starting one (stampedes averted). */
  readonly collapsed: number;
  /** Values not cached because they weighed more than `maxEntryBytes`. */
  readonly refusedTooLarge: number;
  /** Loaded values not stored because a write, delete or clear of the key arrived while they loaded. */
  readonly superseded: number;
  /** Stale serving, timeouts, load limits and early refreshes. */
  readonly freshness: FreshnessStats;
  /** Loads in flight now (cache-wide). */
  readonly inFlight: number;
  /** Latency percentiles (cache-wide); `undefined` with `stats: false`. */
  readonly latency: LatencySummaries | undefined;
  /**
   * The sliding-window hit rate and, when it is low, the diagnosis, over this namespace and the ones nested
   * in it (the root: the whole cache); its curve counts this namespace's sampled keys, and is absent while
   * they are too few. `undefined` with `stats: false`.
   */
  readonly health: HealthReport | undefined;
}

/** What a snapshot needs from the memory tier. */
export interface MemoryTierView {
  readonly size: number;
  readonly bytes: number;
  readonly windowFraction: number;
  readonly counters: { readonly evictions: number; readonly expirations: number; readonly removedUnread: number };
}

/** Reads no tier answered. */
export function totalMisses(counters: Counters): number {
  return counters.missCold + counters.missExpired + counters.missEvicted + counters.missInvalidated;
}

/** `hits / (hits + misses)`, or 0 when both are 0. */
export function ratio(hits: number, misses: number): number {
  const total = hits + misses;
  return total === 0 ? 0 : hits / total;
}

/** Builds the public snapshot. */
export function snapshot(
  namespace: string,
  counters: Counters,
  l1: MemoryTierView | undefined,
  l2: { readonly name: string; readonly pending: number } | undefined,
  bus: BusStats | undefined,
  inFlight: number,
  latency: LatencySummaries | undefined,
  health: HealthReport | undefined,
): CacheStats {
  const hits = counters.l1Hits + counters.l2Hits;
  const misses = totalMisses(counters);
  return {
    namespace,
    hits,
    misses,
    hitRate: ratio(hits, misses),
    missCauses: {
      cold: counters.missCold,
      expired: counters.missExpired,
      evicted: counters.missEvicted,
      invalidated: counters.missInvalidated,
    },
    l1:
      l1 === undefined
        ? undefined
        : {
            hits: counters.l1Hits,
            misses: counters.l1Misses,
            hitRate: ratio(counters.l1Hits, counters.l1Misses),
            entries: l1.size,
            bytes: l1.bytes,
            evictions: l1.counters.evictions,
            expirations: l1.counters.expirations,
            removedUnread: l1.counters.removedUnread,
            windowFraction: l1.windowFraction,
          },
    l2:
      l2 === undefined
        ? undefined
        : {
            name: l2.name,
            pending: l2.pending,
            hits: counters.l2Hits,
            misses: counters.l2Misses,
            errors: counters.l2Errors,
            refused: counters.l2Refused,
            unusable: counters.l2Unusable,
            deferred: counters.l2Deferred,
            repaired: counters.l2Repaired,
            lockWaits: counters.lockWaits,
            lockTimeouts: counters.lockTimeouts,
          },
    bus,
    loads: counters.loads,
    loadErrors: counters.loadErrors,
    collapsed: counters.collapsed,
    refusedTooLarge: counters.refusedTooLarge,
    superseded: counters.superseded,
    freshness: {
      staleServed: counters.staleServed,
      timeouts: counters.loadTimeouts,
      overloaded: counters.overloaded,
      refreshes: counters.refreshes,
      refreshErrors: counters.refreshErrors,
      staleLoadsDropped: counters.staleLoadsDropped,
      writeConflicts: counters.writeConflicts,
    },
    inFlight,
    latency,
    health,
  };
}
