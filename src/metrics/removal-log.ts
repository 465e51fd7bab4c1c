/**
 * A ghost of the memory tier: the last few thousand keys that left it, why, and when. Two questions
 * depend on it:
 *
 * - **Why did this read miss?** A key found here was evicted, expired or invalidated; one not found is
 *   cold (never cached, or gone too long ago to remember).
 * - **Would more memory help?** Under LRU-like eviction, a key evicted `e` evictions ago would still be
 *   cached in a tier `e` entries larger (the LRU stack property; Mattson et al., 1970). Counting the
 *   misses on keys evicted at most `C` and `3C` evictions ago estimates the hit rate at 2× and 4× the
 *   capacity `C` — the shadow-cache technique of Caffeine's simulator and of miss-ratio-curve tools.
 *   W-TinyLFU is not LRU, so this is an estimate, good enough to tell "a bit more memory" from "no
 *   amount of memory".
 *
 * Keys are remembered by their 32-bit seeded hash, in a ring of `capacity` slots with an index from
 * hash to sequence number: O(1) per removal and per lookup, about 40 bytes per remembered key. A hash
 * collision can misattribute one miss; statistics do not mind.
 */

import { extended } from '../typed-arrays.js';

/** Removals remembered per unit of L1 capacity: enough to estimate the hit rate at 4× the capacity. */
const REMOVAL_LOG_FACTOR = 3;
/** Removal log size for an L1 bounded only by bytes (its entry count is unknown up front). */
const REMOVAL_LOG_DEFAULT = 30_000;
/** The removal log never grows past this many keys (~40 MB). */
const REMOVAL_LOG_MAX = 1_000_000;
/**
 * Heap bytes per remembered removal (typed-array slots and an index entry, measured ~70): an L1 bounded by
 * bytes spends at most a quarter of `maxBytes` on its log, so the whole cache stays within 2× of it.
 */
const REMOVAL_LOG_BYTES_PER_KEY = 4 * 80;
/** A log smaller than this cannot say anything useful; its cost is fixed and small (~80 KB). */
const REMOVAL_LOG_MIN = 1024;

/**
 * The L1 capacity in entries the shadow estimates assume: `maxEntries`, or for an L1 bounded only by
 * bytes (its entry count unknown up front) a third of the default log size.
 */
export function shadowCapacity(l1: { readonly maxEntries: number }): number {
  return Number.isFinite(l1.maxEntries) ? l1.maxEntries : REMOVAL_LOG_DEFAULT / REMOVAL_LOG_FACTOR;
}

/** How many removals to remember for an L1 bounded by `maxEntries` and `maxBytes`. */
export function removalLogSize(l1: { readonly maxEntries: number; readonly maxBytes: number }): number {
  const { maxEntries, maxBytes } = l1;
  let size = Number.isFinite(maxEntries) ? maxEntries * REMOVAL_LOG_FACTOR : REMOVAL_LOG_DEFAULT;
  if (Number.isFinite(maxBytes)) size = Math.min(size, Math.max(REMOVAL_LOG_MIN, maxBytes / REMOVAL_LOG_BYTES_PER_KEY));
  return Math.floor(Math.min(REMOVAL_LOG_MAX, size));
}

/** Why a key left the memory tier. */
export type RemovalCause = 'evicted' | 'expired' | 'invalidated';

const CAUSES: readonly RemovalCause[] = ['evicted', 'expired', 'invalidated'];
/** Slots allocated up front; the ring doubles up to its capacity as removals arrive. */
const INITIAL_SLOTS = 1024;

/** What the log remembers of one removal. */
export interface Removal {
  readonly cause: RemovalCause;
  /** Clock time of the removal — for an expiry, the time the entry expired. */
  readonly at: number;
  /** Evictions since this removal (for `evicted`: the key's depth in the eviction stack). */
  readonly evictionsSince: number;
}

/** A bounded log of recent removals, indexed by key hash. */
export class RemovalLog {
  readonly #capacity: number;
  // The ring's arrays grow by doubling until they reach `capacity`, so an idle log costs little.
  #hashes: Int32Array;
  #causes: Uint8Array;
  #times: Float64Array;
  #evictionMarks: Float64Array;
  readonly #index = new Map<number, number>();
  #sequence = 0;
  #evictions = 0;

  /** @param capacity Removals remembered; older ones are forgotten. */
  constructor(capacity: number) {
    this.#capacity = capacity;
    const initial = Math.min(capacity, INITIAL_SLOTS);
    this.#hashes = new Int32Array(initial);
    this.#causes = new Uint8Array(initial);
    this.#times = new Float64Array(initial);
    this.#evictionMarks = new Float64Array(initial);
  }

  /** Keys remembered at most. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Remembers that the key with this hash left the tier. */
  record(hash: number, cause: RemovalCause, at: number): void {
    if (cause === 'evicted') this.#evictions++;
    const sequence = this.#sequence++;
    const position = sequence % this.#capacity;
    if (position >= this.#hashes.length) this.#grow();
    if (sequence >= this.#capacity) {
      // The ring wraps: forget the removal this slot held, unless its key was removed again since.
      const oldHash = this.#hashes[position] as number;
      if (this.#index.get(oldHash) === sequence - this.#capacity) this.#index.delete(oldHash);
    }
    this.#hashes[position] = hash;
    this.#causes[position] = CAUSES.indexOf(cause);
    this.#times[position] = at;
    this.#evictionMarks[position] = this.#evictions;
    this.#index.set(hash, sequence);
  }

  /** The last removal of the key with this hash, if still remembered. */
  lookup(hash: number): Removal | undefined {
    const sequence = this.#index.get(hash);
    if (sequence === undefined) return undefined;
    const position = sequence % this.#capacity;
    return {
      cause: CAUSES[this.#causes[position] as number] as RemovalCause,
      at: this.#times[position] as number,
      evictionsSince: this.#evictions - (this.#evictionMarks[position] as number),
    };
  }

  #grow(): void {
    const size = Math.min(this.#capacity, this.#hashes.length * 2);
    this.#hashes = extended(this.#hashes, size);
    this.#causes = extended(this.#causes, size);
    this.#times = extended(this.#times, size);
    this.#evictionMarks = extended(this.#evictionMarks, size);
  }

  /** Forgets a key (it is cached again, so its old removal no longer explains anything). */
  forget(hash: number): void {
    this.#index.delete(hash);
  }
}
