/**
 * Counters kept on the read and write paths, and the snapshot `cache.stats()` returns. Counters are
 * plain number fields bumped inline: the L1 hit path pays one increment, nothing more.
 */

/** Mutable running totals. Internal: the public view is {@link CacheStats}. */
export class Counters {
  /** Reads no tier answered. */
  misses = 0;
  l1Hits = 0;
  l1Misses = 0;
  loads = 0;
  loadErrors = 0;
  collapsed = 0;
  refusedTooLarge = 0;
  superseded = 0;
}

/** Hit and miss figures of the memory tier. */
export interface MemoryTierStats {
  /** Reads the L1 answered. */
  readonly hits: number;
  /** Reads the L1 could not answer. */
  readonly misses: number;
  /** `hits / (hits + misses)`, or 0 before any read. */
  readonly hitRate: number;
  /** Entries held now (including expired ones not yet swept). */
  readonly entries: number;
  /** Estimated bytes held now. */
  readonly bytes: number;
  /** Entries removed to make room. */
  readonly evictions: number;
  /** Entries removed because their TTL ran out. */
  readonly expirations: number;
}

/** A snapshot of a cache's counters. */
export interface CacheStats {
  /** Reads answered from a cache tier. */
  readonly hits: number;
  /** Reads no tier could answer (each `getOrLoad` miss then loads or joins a load). */
  readonly misses: number;
  /** `hits / (hits + misses)`, or 0 before any read. */
  readonly hitRate: number;
  /** The memory tier's figures; `undefined` when the cache has no L1. */
  readonly l1: MemoryTierStats | undefined;
  /** Loader calls started. */
  readonly loads: number;
  /** Loader calls that threw or rejected. */
  readonly loadErrors: number;
  /** `getOrLoad` calls that joined a load already in flight instead of starting one (stampedes averted). */
  readonly collapsed: number;
  /** Values not cached because they weighed more than `maxEntryBytes`. */
  readonly refusedTooLarge: number;
  /** Loaded values not stored because a write or delete of the key arrived while they loaded. */
  readonly superseded: number;
  /** Loads in flight now. */
  readonly inFlight: number;
}

/** What a snapshot needs from the memory tier. */
export interface MemoryTierView {
  readonly size: number;
  readonly bytes: number;
  readonly counters: { readonly evictions: number; readonly expirations: number };
}

function ratio(hits: number, misses: number): number {
  const total = hits + misses;
  return total === 0 ? 0 : hits / total;
}

/** Builds the public snapshot from the running totals. */
export function snapshot(counters: Counters, l1: MemoryTierView | undefined, inFlight: number): CacheStats {
  const hits = counters.l1Hits;
  const misses = counters.misses;
  return {
    hits,
    misses,
    hitRate: ratio(hits, misses),
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
          },
    loads: counters.loads,
    loadErrors: counters.loadErrors,
    collapsed: counters.collapsed,
    refusedTooLarge: counters.refusedTooLarge,
    superseded: counters.superseded,
    inFlight,
  };
}
