/**
 * The in-process memory tier (L1): a bounded map with W-TinyLFU admission and eviction.
 *
 * ## Why W-TinyLFU
 *
 * LRU keeps whatever was touched last, so one scan over cold keys flushes the hot set, and a loop a
 * little larger than the cache hits nothing at all. LFU resists scans but clings to yesterday's
 * favourites and costs a heap. W-TinyLFU (Einziger, Eytan, Friedman & Manes, "Adaptive Software Cache
 * Management", Middleware 2018; and "TinyLFU: A Highly Efficient Cache Admission Policy", ACM TOS 2017)
 * takes the useful half of each, in O(1):
 *
 * - New entries land in a small **admission window** (1% of the capacity), an LRU that gives bursts of
 *   fresh keys a chance to prove themselves.
 * - The rest is the **main** space, a segmented LRU: **probation** (20%) and **protected** (80%). A hit
 *   in probation promotes to protected; protected overflow demotes its LRU back to probation.
 * - When the window overflows, its LRU entry becomes a **candidate** for main and duels with main's
 *   LRU victim: the one with the higher estimated frequency stays. Estimates come from a 4-bit
 *   count-min sketch with a doorkeeper and periodic aging (`frequency-sketch.ts`), so history costs a
 *   few bits per entry, not a record per key ever seen.
 * - Hash flooding: the sketch's hash is seeded per cache, and a candidate with a high frequency that
 *   loses is still admitted with probability 1/128, so an attacker who inflates a victim's count
 *   cannot pin it forever (Caffeine's `ADMIT_HASHDOS_THRESHOLD`).
 *
 * - **Adaptive window.** The best window size depends on the workload: recency-heavy traffic wants a
 *   large window (LRU-like), frequency-heavy traffic a small one. Once the tier is full, shadow copies
 *   with windows from 1 % to 100 % (LRU) run on a hashed sample of the accesses, and the tier takes the
 *   window of the one that has lately hit most (`window-tuner.ts`; miniature simulations, Waldspurger
 *   et al., ATC 2017). Caffeine's hill climber, which this replaces, compares successive samples' hit
 *   rates and so cannot tell the window's effect from the workload's own swings.
 *
 * - **A re-read soon after rejection is admitted.** A candidate the filter turned away that is read again
 *   within C reads (C: the capacity in entries) is admitted on its next duel whatever the sketch says:
 *   an LRU of this size would have kept it (`recent-rejections.ts`; ARC's ghost list B1 holds the same
 *   evidence). Without it the filter keeps turning away keys with short re-reads but little history,
 *   and recency-heavy traces fall below LRU and ARC whatever the window (lirs-cpp at 10 %).
 *
 * Apart from the window and that rule, this is the policy of Caffeine's `BoundedLocalCache` (Manes),
 * without its concurrency machinery: JavaScript has one thread per isolate, so reads reorder the lists
 * inline.
 *
 * ## Layout
 *
 * Entries live in slots. A slot's integers (list links, key hash, and a state word: segment, reference
 * bit and the hits not yet in the sketch) form one 16-byte record (`linked-slots.ts`), its numbers
 * (expiry and fresh-until in float64, load time in float32, weight) 24 bytes of one buffer, and its key
 * and value sit in two plain arrays. The key index maps a key to its
 * slot number, a small integer V8 stores unboxed. Compared with an object per entry, a hit touches a
 * handful of cache lines, and the heap holds no per-entry object for the GC to trace.
 *
 * ## Bounds and expiry
 *
 * The tier is bounded by entry count, by weight (estimated bytes), or both; each segment's share
 * applies to both measures. Expired entries are dropped when read, preferred as eviction victims, and
 * reclaimed by a sweeper that inspects a couple of slots per write — no timer per entry, O(1)
 * amortised, and every expired entry is reached within `size / SWEEP_STEPS` writes.
 */

import type { Removal, RemovalCause, RemovalLog } from '../metrics/removal-log.js';
import { extended } from '../typed-arrays.js';
import { FrequencySketch } from './frequency-sketch.js';
import { hashString } from './hash.js';
import { FIELD_A, FIELD_B, LinkedSlots, NIL, RECORD } from './linked-slots.js';
import { RecentRejections } from './recent-rejections.js';
import { INITIAL_WINDOW, WindowTuner } from './window-tuner.js';

/** Most entries moved between segments in one resize, so a resize never stalls a write. */
const RESIZE_TRANSFER_LIMIT = 1000;
/**
 * Sampled accesses that wait before the window tuner's shadows run them on an insert, and the most one
 * insert runs (~2 µs each: six shadows): the timer runs the rest. Running the whole ring there made one
 * insert of a 1,000-entry L1 wait 5.6 ms after a burst of hits.
 */
const TUNER_BATCH = 64;
/** Share of the main space given to the protected segment (segmented LRU's usual 80/20 split). */
const PROTECTED_FRACTION = 0.8;
/** A losing candidate at least this popular is still admitted 1 time in 128 (hash-flooding defence). */
const ADMIT_HASHDOS_THRESHOLD = 6;
/** 1 in this many losing popular candidates is admitted anyway. */
const ADMIT_HASHDOS_ODDS = 128;
/** Slots the sweeper inspects per write: small enough to be free, large enough to outpace inserts. */
const SWEEP_STEPS = 2;
/**
 * A slot's numbers take 24 bytes of one buffer: expiry and fresh-until as float64 (epoch ms, exact), then
 * the load time as float32 (only XFetch's cost estimate reads it) and the weight as uint32. Float64 index
 * stride, and offsets:
 */
const TIMES = 3;
const FRESH_UNTIL = 1;
/** The same slot in 32-bit units, and the offsets of the load time and the weight. */
const WORDS = 6;
const DELTA = 4;
const WEIGHT = 5;
/** Largest weight a slot stores, in bytes (no JavaScript value comes near it). */
const MAX_WEIGHT = 0xffffffff;
/** Sketch size for a tier bounded only by bytes, before it has seen how many entries it holds. */
const INITIAL_SKETCH_CAPACITY = 1024;
/** Slots allocated up front; the arrays double as the tier fills, up to its entry bound. */
const INITIAL_SLOTS = 256;

/** The segments: the admission window, and main's probation and protected parts. */
const WINDOW = 0;
const PROBATION = 1;
const PROTECTED = 2;
const SEGMENTS = 3;
/** Where a slot's record keeps the key hash, and its state: segment, reference bit, held hits. */
const HASH = FIELD_A;
const STATE = FIELD_B;
/** The segment takes the low 2 bits of the state. */
const SEGMENT_MASK = 3;
/**
 * Set by a hit on a slot of a large window or protected list, cleared when the slot moves: the slot was
 * read since. Such a slot reaching its list's LRU end gets a second chance (CLOCK) instead of leaving.
 */
const REFERENCED = 4;
/** Segment and reference bit: what a move between lists rewrites. */
const PLACE_MASK = SEGMENT_MASK | REFERENCED;
/**
 * Hits on the entry not yet in the frequency sketch (bits 3–6, 0–15, saturating as the sketch's counters
 * do): a hit counts here, in the record it already reads, instead of in the sketch's counters, a random
 * cache line away (a fifth of an L1 hit's time, measured). The sketch gets them when the entry leaves
 * (#unlink), and an admission duel adds them to its estimate (#frequency).
 */
const HELD_SHIFT = 3;
const HELD_BITS = 4;
const HELD_ONE = 1 << HELD_SHIFT;
const HELD_MASK = ((1 << HELD_BITS) - 1) << HELD_SHIFT;
/**
 * The sketch's aging pass the held hits were counted in (bits 7–30): the sketch halves its counters on
 * each pass, so held hits are halved once per pass since, when next read or counted (#rebased).
 */
const AGE_SHIFT = 7;
const AGE_MASK = 0xffffff;
/**
 * Lists up to this many slots keep exact LRU order: their records (16 B each) stay in the CPU's cache, so
 * moving a slot on every read is cheap. Larger lists approximate it with CLOCK (see #touch).
 */
const EXACT_LIST_MAX = 1024;
/**
 * Most second chances one overflow pass gives before it moves the LRU slot regardless: bounds the pass
 * when every slot of a large list was read since it moved (each chance clears a bit, so any pass ends).
 */
const SECOND_CHANCES = 64;

/** Returned by {@link MemoryTier.get} and {@link MemoryTier.peek} when there is no live entry. */
export const MISS: unique symbol = Symbol('tiercache.miss');

/** Bounds of a {@link MemoryTier}; `Infinity` for a measure that is not bounded. */
export interface MemoryTierLimits {
  readonly maxEntries: number;
  readonly maxBytes: number;
}

/**
 * Takes sampled accesses (the miss-ratio curve): a hit passes the hash, a new entry its key too; `forget`
 * says a sampled key left the tier.
 */
export interface AccessSampler {
  /** Hashes (unsigned) below this are sampled. */
  readonly sampleBelow: number;
  sample(hash: number, key?: string): void;
  forget(hash: number): void;
  /** The tier was cleared. */
  forgetAll(): void;
}

/** Running totals of a {@link MemoryTier}. */
export interface MemoryTierCounters {
  /** Entries removed to make room. */
  evictions: number;
  /** Entries removed because they expired (on read, by the sweeper, or in eviction). */
  expirations: number;
  /** Entries evicted or expired that were never read after being cached (sketch frequency ≤ 1). */
  removedUnread: number;
}

/** A W-TinyLFU bounded map from physical key to value. Synchronous; O(1) per operation. */
export class MemoryTier {
  readonly #index = new Map<string, number>();
  /** Sized with the typed arrays (see #grow), not left to the engine's 1.5× growth. */
  #keys: (string | undefined)[];
  #values: unknown[];
  /** Per slot: [expiresAt, freshUntil] and a third float64 holding delta and weight (see TIMES, WORDS). */
  #times: Float64Array;
  /** The same buffer as float32: a slot's load time at `slot * WORDS + DELTA`. */
  #deltas: Float32Array;
  /** The same buffer as uint32: a slot's weight at `slot * WORDS + WEIGHT`. */
  #weights: Uint32Array;
  /** Slot of the entry the last `get` or `peek` returned: a small integer is the cheapest thing to store per hit. */
  #lastSlot = 0;
  readonly #links: LinkedSlots;
  readonly #free: number[] = [];
  #allocated: number;
  #used = 0;
  readonly #maxSlots: number;
  readonly #sketch: FrequencySketch;
  /** Candidates the filter turned away lately: one read again within C reads is admitted (#admit). */
  readonly #rejected: RecentRejections;
  /** Reads so far (`get` calls): the clock of {@link #rejected}. */
  #reads = 0;
  readonly #seed: number;
  readonly #random: () => number;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #windowMaxEntries = 0;
  #windowMaxBytes = 0;
  #protectedMaxEntries = 0;
  #protectedMaxBytes = 0;
  #weight = 0;
  #windowFraction = INITIAL_WINDOW;
  /** Whether the window follows a {@link WindowTuner} (created at the first eviction), or stays put. */
  #tuned: boolean;
  /** Most entries each of the tuner's shadows holds (undefined: the tuner's default). */
  readonly #tunerShadowEntries: number | undefined;
  #tuner: WindowTuner | undefined;
  /** Hashes (unsigned) below this are sampled, for the tuner or the {@link sampler}: one comparison per access. */
  #sampleBelow = 0;
  #sampler: AccessSampler | undefined;
  #sweepCursor = 0;
  /** Running totals, read by the cache's stats. */
  readonly counters: MemoryTierCounters = { evictions: 0, expirations: 0, removedUnread: 0 };
  readonly #removals: RemovalLog | undefined;

  /**
   * @param limits At least one finite bound (the cache's options check this).
   * @param random Source of randomness for the hash seed and admission tie-breaks.
   * @param removals Where to remember removed keys, for miss causes and capacity estimates.
   * @param window A fixed window share (the tuner's own shadows); without it the window is tuned.
   * @param tunerShadowEntries Caps the size of the tuner's shadows (the miss-ratio curve's simulations
   *   tune their windows on smaller ones than an L1 does).
   */
  constructor(
    limits: MemoryTierLimits,
    random: () => number,
    removals?: RemovalLog,
    window?: number,
    tunerShadowEntries?: number,
  ) {
    this.#removals = removals;
    this.#tunerShadowEntries = tunerShadowEntries;
    this.#maxEntries = limits.maxEntries;
    this.#maxBytes = limits.maxBytes;
    this.#tuned = window === undefined;
    this.#setWindowFraction(window ?? INITIAL_WINDOW);
    this.#random = random;
    this.#seed = Math.floor(random() * 0x1_0000_0000) | 0;
    const expected = Number.isFinite(limits.maxEntries) ? limits.maxEntries : INITIAL_SKETCH_CAPACITY;
    this.#sketch = new FrequencySketch(expected);
    this.#rejected = new RecentRejections(expected);
    // One spare slot: a new entry is placed before eviction makes room for it.
    this.#maxSlots = limits.maxEntries + 1;
    this.#allocated = Math.min(this.#maxSlots, INITIAL_SLOTS);
    this.#keys = new Array<string | undefined>(this.#allocated).fill(undefined);
    this.#values = new Array<unknown>(this.#allocated).fill(undefined);
    this.#times = new Float64Array(this.#allocated * TIMES);
    this.#deltas = new Float32Array(this.#times.buffer);
    this.#weights = new Uint32Array(this.#times.buffer);
    this.#links = new LinkedSlots(SEGMENTS, this.#allocated);
  }

  /** Live and not-yet-swept entries. */
  get size(): number {
    return this.#index.size;
  }

  /** Sum of the entries' weights, in estimated bytes. */
  get bytes(): number {
    return this.#weight;
  }

  /** The admission window's current share of the capacity (the window tuner moves it). */
  get windowFraction(): number {
    return this.#windowFraction;
  }

  /** Returns the live value for a key and records the access, or {@link MISS} (dropping it if expired). */
  get(key: string, now: number): unknown {
    this.#reads++;
    const slot = this.#index.get(key);
    if (slot === undefined) return MISS;
    if ((this.#times[slot * TIMES] as number) <= now) {
      this.#expire(slot);
      return MISS;
    }
    const records = this.#links.records;
    const hash = records[slot * RECORD + HASH] as number;
    let state = records[slot * RECORD + STATE] as number;
    if (((state >>> AGE_SHIFT) ^ this.#sketch.ages) & AGE_MASK) state = this.#rebased(state);
    if ((state & HELD_MASK) !== HELD_MASK) {
      state += HELD_ONE;
      this.#sketch.tick();
    }
    if (hash >>> 0 < this.#sampleBelow) this.#sample(hash >>> 0);
    this.#touch(slot, state);
    this.#lastSlot = slot;
    return this.#values[slot];
  }

  /** The sketch's recent-read estimate (0–16) of the entry the last `get` or `peek` returned. */
  get lastFrequency(): number {
    return this.#frequency(this.#lastSlot);
  }

  /** Fresh-until time of the entry the last `get` or `peek` returned (before it, the value is stale). */
  get freshUntil(): number {
    return this.#times[this.#lastSlot * TIMES + FRESH_UNTIL] as number;
  }

  /** End of life (grace included) of the entry the last `get` or `peek` returned. */
  get expiresAt(): number {
    return this.#times[this.#lastSlot * TIMES] as number;
  }

  /** Load duration (ms) of the entry the last `get` or `peek` returned. */
  get delta(): number {
    return this.#deltas[this.#lastSlot * WORDS + DELTA] as number;
  }

  /** Returns the live value for a key without recording an access, or {@link MISS}. */
  peek(key: string, now: number): unknown {
    const slot = this.#index.get(key);
    if (slot === undefined || (this.#times[slot * TIMES] as number) <= now) return MISS;
    this.#lastSlot = slot;
    return this.#values[slot];
  }

  /** Moves the end of a live entry's freshness (to mark it stale, or fresh for a backoff). */
  setFreshUntil(key: string, freshUntil: number, now: number): boolean {
    const slot = this.#index.get(key);
    if (slot === undefined || (this.#times[slot * TIMES] as number) <= now) return false;
    this.#times[slot * TIMES + FRESH_UNTIL] = Math.min(freshUntil, this.#times[slot * TIMES] as number);
    return true;
  }

  /**
   * Inserts or replaces an entry, then evicts down to the bounds. The entry lives until `expiresAt`; it
   * is fresh until `freshUntil` (earlier when fail-safe grace keeps it past its TTL).
   * @returns `false` (and drops any older entry) when the weight alone exceeds `maxBytes`.
   */
  set(
    key: string,
    value: unknown,
    weight: number,
    expiresAt: number,
    now: number,
    freshUntil = expiresAt,
    delta = 0,
  ): boolean {
    let slot = this.#index.get(key);
    // Whole bytes, as the slot stores them, so the running sums subtract exactly what they added.
    weight = Math.min(Math.ceil(weight), MAX_WEIGHT);
    if (weight > this.#maxBytes) {
      if (slot !== undefined) this.#unlink(slot, 'invalidated', now);
      return false;
    }
    if (slot !== undefined) {
      this.#values[slot] = value;
      this.#times[slot * TIMES] = expiresAt;
      this.#times[slot * TIMES + FRESH_UNTIL] = freshUntil;
      this.#deltas[slot * WORDS + DELTA] = delta;
      const change = weight - (this.#weights[slot * WORDS + WEIGHT] as number);
      if (change !== 0) {
        const segment = this.#segmentOf(slot);
        this.#links.weight[segment] = (this.#links.weight[segment] as number) + change;
        this.#weight += change;
        this.#weights[slot * WORDS + WEIGHT] = weight;
      }
      this.#sketch.increment(this.#links.records[slot * RECORD + HASH] as number);
      this.#touch(slot, this.#links.records[slot * RECORD + STATE] as number);
    } else {
      slot = this.#allocate();
      const hash = hashString(key, this.#seed);
      this.#index.set(key, slot);
      this.#keys[slot] = key;
      this.#values[slot] = value;
      this.#links.records[slot * RECORD + HASH] = hash;
      this.#removals?.forget(hash | 0);
      this.#times[slot * TIMES] = expiresAt;
      this.#weights[slot * WORDS + WEIGHT] = weight;
      this.#times[slot * TIMES + FRESH_UNTIL] = freshUntil;
      this.#deltas[slot * WORDS + DELTA] = delta;
      this.#links.records[slot * RECORD + STATE] = WINDOW | this.#ageStamp();
      this.#links.push(WINDOW, slot, weight);
      this.#weight += weight;
      // A byte-bounded tier's sketch grows with its entries. An entry-bounded one passes here once, when it
      // first fills (the spare slot): the sketch starts afresh at twice its size, forgetting counts taken
      // while everything was admitted. Measured, that fresh start matters: lirs-ps at 5 % hits 0.405 with
      // it, 0.314 without it, 0.375 with a sketch of twice the size from the start (docs/design.md). The
      // recent rejections' span follows the same count of entries.
      if (this.#index.size > this.#sketch.capacity) {
        this.#sketch.ensureCapacity(this.#index.size * 2);
        this.#rejected.ensureCapacity(this.#index.size);
      }
      this.#sketch.increment(hash);
      if (hash >>> 0 < this.#sampleBelow) this.#sample(hash >>> 0, key);
      const tuner = this.#tuner;
      if (tuner !== undefined && tuner.pending >= TUNER_BATCH) this.tune(TUNER_BATCH);
    }
    this.#sweep(now);
    this.#evict(now);
    return true;
  }

  /** Removes a key. @returns whether it was present. */
  delete(key: string, now: number): boolean {
    const slot = this.#index.get(key);
    if (slot === undefined) return false;
    this.#unlink(slot, 'invalidated', now);
    return true;
  }

  /** Removes every key the predicate accepts (O(size); for namespace clears). @returns how many. */
  deleteWhere(predicate: (key: string) => boolean, now: number): number {
    let removed = 0;
    for (const [key, slot] of this.#index) {
      if (predicate(key)) {
        this.#unlink(slot, 'invalidated', now);
        removed++;
      }
    }
    return removed;
  }

  /** Removes everything (remembering each key as invalidated when `now` is given). */
  clear(now?: number): void {
    const records = this.#links.records;
    for (const slot of this.#index.values()) {
      const hash = records[slot * RECORD + HASH] as number;
      this.#sketch.add(hash, this.#held(slot));
      if (now !== undefined) this.#removals?.record(hash, 'invalidated', now);
    }
    this.#index.clear();
    this.#keys.fill(undefined);
    this.#values.fill(undefined);
    this.#links.clear();
    this.#free.length = 0;
    this.#used = 0;
    this.#weight = 0;
    this.#sweepCursor = 0;
    this.#sampler?.forgetAll();
  }

  /** The physical keys present (live or not yet swept), for tests and diagnostics. */
  keys(): IterableIterator<string> {
    return this.#index.keys();
  }

  /**
   * Why a key that is not cached is not: its last removal, if the removal log remembers it; else
   * `'seen'` if the frequency sketch has counted it at least twice recently (it was evicted long ago or
   * never admitted); else `undefined` — a first read, as far as the tier can tell. A key read once, long
   * ago, counts as a first read: the doorkeeper that remembers single sightings cannot tell them from
   * its false positives, and the miss-ratio curve sees such re-reads anyway.
   */
  explainMiss(key: string): Removal | 'seen' | undefined {
    const hash = hashString(key, this.#seed) | 0;
    const removal = this.#removals?.lookup(hash);
    if (removal !== undefined) return removal;
    return this.#sketch.repeated(hash) ? 'seen' : undefined;
  }

  /**
   * Records a read. A second look while on probation earns a place in the protected segment at once. In
   * a small window or protected list the slot moves to the MRU end (exact LRU). In a large one the read
   * only sets the slot's reference bit, and the slot moves when it reaches the LRU end (#secondChance):
   * moving on every read wrote to two random neighbouring records per hit, a quarter of a 10,000-entry
   * L1's hit time. On the workloads of `bench/hitratio.ts` with lists that large, hit ratios moved by at
   * most 0.003 (docs/design.md, "CLOCK for large lists").
   */
  #touch(slot: number, state: number): void {
    const links = this.#links;
    const records = links.records;
    const segment = state & SEGMENT_MASK;
    if (segment === PROBATION) {
      records[slot * RECORD + STATE] = state;
      this.#transfer(slot, PROBATION, PROTECTED);
      this.#demoteProtectedOverflow();
    } else if ((links.count[segment] as number) <= EXACT_LIST_MAX) {
      links.moveToTail(segment, slot);
      records[slot * RECORD + STATE] = state & ~REFERENCED;
    } else {
      records[slot * RECORD + STATE] = state | REFERENCED;
    }
  }

  /** A state with its held hits halved once per aging pass since they were counted, stamped with now's. */
  #rebased(state: number): number {
    const passes = (this.#sketch.ages - (state >>> AGE_SHIFT)) & AGE_MASK;
    const held = passes >= HELD_BITS ? 0 : ((state & HELD_MASK) >>> HELD_SHIFT) >>> passes;
    return (state & PLACE_MASK) | (held << HELD_SHIFT) | this.#ageStamp();
  }

  /** The sketch's current aging pass, in its place in a state word. */
  #ageStamp(): number {
    return (this.#sketch.ages & AGE_MASK) << AGE_SHIFT;
  }

  /** Hits the slot holds for the sketch, halved for the aging passes since they were counted. */
  #held(slot: number): number {
    return (this.#rebased(this.#links.records[slot * RECORD + STATE] as number) & HELD_MASK) >>> HELD_SHIFT;
  }

  /** The sketch's estimate for a slot's key, with the hits the slot still holds. */
  #frequency(slot: number): number {
    return this.#sketch.frequency(this.#links.records[slot * RECORD + HASH] as number, this.#held(slot));
  }

  /**
   * Whether a list's LRU slot, about to leave the list, was read since it last moved: if so it moves to
   * the list's MRU end instead, with its bit cleared. The caller bounds the chances per pass.
   */
  #secondChance(list: number, slot: number): boolean {
    const records = this.#links.records;
    const state = records[slot * RECORD + STATE] as number;
    if ((state & REFERENCED) === 0) return false;
    records[slot * RECORD + STATE] = state & ~REFERENCED;
    this.#links.moveToTail(list, slot);
    return true;
  }

  /** Moves a slot from one list to another's MRU end, with its reference bit clear. */
  #transfer(slot: number, from: number, to: number): void {
    const weight = this.#weights[slot * WORDS + WEIGHT] as number;
    this.#links.remove(from, slot, weight);
    this.#place(slot, to);
    this.#links.push(to, slot, weight);
  }

  /** The segment a slot is in. */
  #segmentOf(slot: number): number {
    return (this.#links.records[slot * RECORD + STATE] as number) & SEGMENT_MASK;
  }

  /** Records a slot's segment, with its reference bit clear (its held hits stay). */
  #place(slot: number, segment: number): void {
    const records = this.#links.records;
    records[slot * RECORD + STATE] = ((records[slot * RECORD + STATE] as number) & ~PLACE_MASK) | segment;
  }

  #demoteProtectedOverflow(): void {
    const links = this.#links;
    let chances = SECOND_CHANCES;
    while (
      ((links.count[PROTECTED] as number) > this.#protectedMaxEntries ||
        (links.weight[PROTECTED] as number) > this.#protectedMaxBytes) &&
      links.head[PROTECTED] !== NIL
    ) {
      const demoted = links.head[PROTECTED] as number;
      if (chances > 0 && this.#secondChance(PROTECTED, demoted)) {
        chances--;
        continue;
      }
      this.#transfer(demoted, PROTECTED, PROBATION);
    }
  }

  #isOverCapacity(): boolean {
    return this.#index.size > this.#maxEntries || this.#weight > this.#maxBytes;
  }

  /** Evicts until both bounds hold; the shape of Caffeine's `evictFromWindow` + `evictFromMain`. */
  #evict(now: number): void {
    const links = this.#links;
    const times = this.#times;
    let candidate = this.#moveWindowOverflowToProbation();
    let candidateSegment = PROBATION;
    let victim = links.head[PROBATION] as number;
    let victimSegment = PROBATION;
    while (this.#isOverCapacity()) {
      // With no candidates from the window's overflow, the window's own LRU is the next candidate.
      if (candidate === NIL && candidateSegment === PROBATION) {
        candidate = links.head[WINDOW] as number;
        candidateSegment = WINDOW;
      }
      // Probation exhausted: take victims from protected, then from the window.
      if (candidate === NIL && victim === NIL) {
        if (victimSegment === PROBATION) {
          victim = links.head[PROTECTED] as number;
          victimSegment = PROTECTED;
          continue;
        }
        if (victimSegment === PROTECTED) {
          victim = links.head[WINDOW] as number;
          victimSegment = WINDOW;
          continue;
        }
        break;
      }
      let evict: number;
      if (victim === NIL) {
        evict = candidate;
        candidate = links.next(candidate);
      } else if (candidate === NIL) {
        evict = victim;
        victim = links.next(victim);
      } else if (candidate === victim) {
        evict = candidate;
        victim = links.next(victim);
        candidate = NIL;
      } else if ((times[candidate * TIMES] as number) <= now) {
        // Dead entries go first, whatever their popularity.
        evict = candidate;
        candidate = links.next(candidate);
      } else if ((times[victim * TIMES] as number) <= now) {
        evict = victim;
        victim = links.next(victim);
      } else if (this.#admit(candidate, victim)) {
        evict = victim;
        victim = links.next(victim);
        candidate = links.next(candidate);
      } else {
        evict = candidate;
        this.#rejected.add(links.records[candidate * RECORD + HASH] as number, this.#reads);
        candidate = links.next(candidate);
      }
      if ((times[evict * TIMES] as number) <= now) this.#expire(evict);
      else {
        this.#unlink(evict, 'evicted', now);
        if (this.#tuner === undefined && this.#tuned) this.#startTuning();
      }
    }
  }

  /** Moves the window's overflow to probation's MRU end. @returns the first slot moved, or NIL. */
  #moveWindowOverflowToProbation(): number {
    const links = this.#links;
    let first = NIL;
    let chances = SECOND_CHANCES;
    while (
      ((links.count[WINDOW] as number) > this.#windowMaxEntries ||
        (links.weight[WINDOW] as number) > this.#windowMaxBytes) &&
      links.head[WINDOW] !== NIL
    ) {
      const moved = links.head[WINDOW] as number;
      if (chances > 0 && this.#secondChance(WINDOW, moved)) {
        chances--;
        continue;
      }
      this.#transfer(moved, WINDOW, PROBATION);
      if (first === NIL) first = moved;
    }
    return first;
  }

  /**
   * Keys to keep whatever the sketch says (the cache's hot keys): such a candidate is always admitted and
   * such a victim never loses its place to an ordinary candidate. Consulted only when evicting.
   */
  favoured: ((key: string) => boolean) | undefined;

  /** Told of each entry evicted or expired, and whether it was read after it was cached (for per-namespace health). */
  onRemoved: ((key: string, unread: boolean) => void) | undefined;

  /**
   * Where accesses are sampled for the miss-ratio curve (`metrics/miss-ratio-curve.ts`): a hit or a new
   * entry whose hash is below `sampleBelow` is handed over — one comparison otherwise.
   */
  get sampler(): AccessSampler | undefined {
    return this.#sampler;
  }

  set sampler(sampler: AccessSampler | undefined) {
    this.#sampler = sampler;
    this.#updateSampleBelow();
  }

  #updateSampleBelow(): void {
    this.#sampleBelow = Math.max(this.#tuner?.sampleBelow ?? 0, this.#sampler?.sampleBelow ?? 0);
  }

  /** Hands a sampled hash (and, for a new entry, its key) to whichever of the tuner and the sampler take it. */
  #sample(hash: number, key?: string): void {
    const tuner = this.#tuner;
    if (tuner !== undefined && hash < tuner.sampleBelow) tuner.sample(hash);
    const sampler = this.#sampler;
    if (sampler !== undefined && hash < sampler.sampleBelow) sampler.sample(hash, key);
  }

  /**
   * Runs up to `max` of the window tuner's queued samples and takes the window it favours (also called
   * by a timer). @returns how many samples are still queued.
   */
  tune(max = Number.POSITIVE_INFINITY): number {
    const tuner = this.#tuner;
    if (tuner === undefined) return 0;
    if (tuner.pending > 0) this.resizeWindow(tuner.drain(max));
    return tuner.pending;
  }

  /** Starts tuning once the tier is full: only then does the window matter, and the capacity is known. */
  #startTuning(): void {
    const capacity = Number.isFinite(this.#maxEntries) ? this.#maxEntries : this.#index.size;
    const entries = WindowTuner.shadowEntries(capacity, this.#maxBytes, this.#tunerShadowEntries);
    if (entries === undefined) {
      this.#tuned = false;
      return;
    }
    this.#tuner = new WindowTuner(capacity, entries, this.#windowFraction, this.#seed);
    this.#updateSampleBelow();
  }

  /** TinyLFU's admission test: does the candidate deserve the victim's place? */
  #admit(candidate: number, victim: number): boolean {
    const favoured = this.favoured;
    if (favoured !== undefined) {
      if (favoured(this.#keys[candidate] as string)) return true;
      if (favoured(this.#keys[victim] as string)) return false;
    }
    // Read again within C reads of being turned away: an LRU of this size would have kept it.
    if (this.#rejected.has(this.#links.records[candidate * RECORD + HASH] as number, this.#reads)) return true;
    const candidateFrequency = this.#frequency(candidate);
    const victimFrequency = this.#frequency(victim);
    if (candidateFrequency > victimFrequency) return true;
    if (candidateFrequency >= ADMIT_HASHDOS_THRESHOLD) {
      return Math.floor(this.#random() * ADMIT_HASHDOS_ODDS) === 0;
    }
    return false;
  }

  /** Sets the window's share of the capacity (0 < fraction ≤ 1; 1 is LRU), moving entries to fit. */
  resizeWindow(fraction: number): void {
    if (fraction === this.#windowFraction) return;
    const grew = fraction > this.#windowFraction;
    this.#setWindowFraction(fraction);
    if (grew) this.#fillWindowFromMain();
    // A shrunk window's overflow moves to probation on the next write's eviction pass.
    this.#demoteProtectedOverflow();
  }

  #setWindowFraction(fraction: number): void {
    this.#windowFraction = fraction;
    this.#windowMaxEntries = windowShare(this.#maxEntries, fraction);
    this.#windowMaxBytes = windowShare(this.#maxBytes, fraction);
    this.#protectedMaxEntries = Math.floor((this.#maxEntries - this.#windowMaxEntries) * PROTECTED_FRACTION);
    this.#protectedMaxBytes = Math.floor((this.#maxBytes - this.#windowMaxBytes) * PROTECTED_FRACTION);
  }

  /** After the window grows, hands it main's least valuable entries (probation's, then protected's LRU). */
  #fillWindowFromMain(): void {
    const links = this.#links;
    for (let moved = 0; moved < RESIZE_TRANSFER_LIMIT; moved++) {
      const probationHead = links.head[PROBATION] as number;
      const segment = probationHead !== NIL ? PROBATION : PROTECTED;
      const slot = links.head[segment] as number;
      if (slot === NIL) return;
      const weight = this.#weights[slot * WORDS + WEIGHT] as number;
      if (
        (links.count[WINDOW] as number) + 1 > this.#windowMaxEntries ||
        (links.weight[WINDOW] as number) + weight > this.#windowMaxBytes
      ) {
        return;
      }
      this.#transfer(slot, segment, WINDOW);
    }
  }

  /** Inspects a few slots per write and drops the expired ones. */
  #sweep(now: number): void {
    for (let step = 0; step < SWEEP_STEPS; step++) {
      const slot = this.#sweepCursor;
      this.#sweepCursor = slot + 1 >= this.#used ? 0 : slot + 1;
      if (this.#keys[slot] !== undefined && (this.#times[slot * TIMES] as number) <= now) this.#expire(slot);
    }
  }

  #expire(slot: number): void {
    // Remembered as of its expiry time, so a later miss can tell how long after expiry it came back.
    this.#unlink(slot, 'expired', this.#times[slot * TIMES] as number);
  }

  #unlink(slot: number, cause: RemovalCause, at: number): void {
    const hash = this.#links.records[slot * RECORD + HASH] as number;
    if (cause === 'evicted') this.counters.evictions++;
    else if (cause === 'expired') this.counters.expirations++;
    const held = this.#held(slot);
    if (cause !== 'invalidated') {
      const unread = this.#sketch.frequency(hash, held) <= 1;
      if (unread) this.counters.removedUnread++;
      this.onRemoved?.(this.#keys[slot] as string, unread);
    }
    if (this.#sampler !== undefined && hash >>> 0 < this.#sampler.sampleBelow) this.#sampler.forget(hash >>> 0);
    this.#removals?.record(hash, cause, at);
    // The hits it held join the key's history, for when it comes back.
    this.#sketch.add(hash, held);
    const weight = this.#weights[slot * WORDS + WEIGHT] as number;
    this.#index.delete(this.#keys[slot] as string);
    this.#links.remove(this.#segmentOf(slot), slot, weight);
    this.#weight -= weight;
    this.#keys[slot] = undefined;
    this.#values[slot] = undefined;
    this.#free.push(slot);
  }

  /** A free slot: a released one, else the next unused one, growing the arrays when full. */
  #allocate(): number {
    const released = this.#free.pop();
    if (released !== undefined) return released;
    if (this.#used === this.#allocated) this.#grow(Math.min(this.#maxSlots, this.#allocated * 2));
    return this.#used++;
  }

  #grow(allocated: number): void {
    // Plain arrays grown by hand to exactly the slot count: a tier that reaches its entry bound holds
    // no spare capacity (the engine's own growth leaves up to half again as much).
    this.#keys = extendedArray(this.#keys, allocated);
    this.#values = extendedArray(this.#values, allocated);
    this.#times = extended(this.#times, allocated * TIMES);
    // The other views of the numbers follow the new buffer.
    this.#deltas = new Float32Array(this.#times.buffer);
    this.#weights = new Uint32Array(this.#times.buffer);
    this.#links.grow(allocated);
    this.#allocated = allocated;
  }
}

/** A copy of `array` extended with `undefined` to `length` elements. */
function extendedArray<T>(array: T[], length: number): (T | undefined)[] {
  const copy = new Array<T | undefined>(length).fill(undefined);
  for (let i = 0; i < array.length; i++) copy[i] = array[i];
  return copy;
}

/** The window's share of a bound: at least 1 unit of a finite bound, as in Caffeine. */
function windowShare(max: number, fraction: number): number {
  if (!Number.isFinite(max)) return max;
  return Math.max(1, max - Math.floor(max * (1 - fraction)));
}
