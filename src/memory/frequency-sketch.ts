/**
 * A 4-bit count-min sketch with a doorkeeper: the popularity estimate behind TinyLFU admission.
 *
 * TinyLFU (Einziger, Friedman & Manes, "TinyLFU: A Highly Efficient Cache Admission Policy", ACM TOS
 * 2017) only needs to answer "is the newcomer more popular than the entry it would displace?", so
 * counts can be tiny and approximate:
 *
 * - **Count-min, depth 4.** Each key owns one 4-bit counter in each of four rows; its estimate is the
 *   minimum, which over-counts only when all four collide. Counters saturate at 15 — enough to rank.
 *   All four counters of a key lie in one 64-byte block (16 words of eight counters, four words a
 *   row), so an update touches one cache line and derives every index from a single re-mix: the
 *   layout of Caffeine's current `FrequencySketch` (Manes), in JavaScript's 32-bit integers.
 * - **Doorkeeper.** A Bloom filter in front of the counters absorbs the first sighting of a key, so the
 *   long tail of one-hit wonders never touches the counters; the estimate adds 1 if the doorkeeper has
 *   seen the key.
 * - **Aging.** After `SAMPLE_FACTOR × capacity` additions every counter is halved and the doorkeeper
 *   cleared, so yesterday's favourites fade and the sketch tracks the current distribution.
 * - **Counts held outside.** A cache hit is counted in the entry's own record, not here (`tick`, `add`):
 *   the tier hands the count over when the entry leaves, and adds it to the estimate in an admission
 *   duel. The sketch only advances its sample and numbers its aging passes, so the holder can halve
 *   what it holds in step.
 *
 * Hashes come in already seeded and mixed (see `hash.ts`): the block comes from the hash's low bits,
 * the counters within it from one re-mix.
 */
import { ceilPowerOfTwo, hasBit, setBit } from './bloom.js';
import { mix32 } from './hash.js';

/** Additions per unit of capacity before an aging pass (the TinyLFU paper's sample size W = 10·C). */
const SAMPLE_FACTOR = 10;
/** Largest value of a 4-bit counter. */
const COUNTER_MAX = 15;
/** Bits of a counter: this many halvings zero any count. */
const COUNTER_BITS = 4;
/** Mask that keeps the low 3 bits of each nibble after a right shift by one (halving all eight counters). */
const HALVE_MASK = 0x77777777;
/** Mask of each nibble's low bit, to count odd counters before halving. */
const ODD_MASK = 0x11111111;
/** Doorkeeper bits per unit of capacity; the sample holds up to 10·C keys but most are repeats. */
const DOORKEEPER_BITS_PER_ENTRY = 16;
/** Words in a block: one 64-byte cache line, four words for each of the four rows. */
const BLOCK_WORDS = 16;
/** Smallest table: a few blocks, so tiny caches still spread their keys. */
const MIN_WORDS = BLOCK_WORDS * 4;

/** Approximate access counts of keys (by hash), with aging. */
export class FrequencySketch {
  #table = new Uint32Array(MIN_WORDS);
  #blockMask = MIN_WORDS / BLOCK_WORDS - 1;
  #doorkeeper = new Uint32Array(MIN_WORDS);
  #doorkeeperMask = MIN_WORDS * 32 - 1;
  #sampleSize = 0;
  #additions = 0;
  #capacity = 0;
  #ages = 0;

  /** @param capacity The number of entries the cache expects to hold; the sketch sizes itself to it. */
  constructor(capacity: number) {
    this.ensureCapacity(capacity);
  }

  /** Entries the sketch is currently sized for. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Grows the sketch (forgetting its counts) when the cache grows past what it was sized for. */
  ensureCapacity(capacity: number): void {
    if (capacity <= this.#capacity) return;
    const inUse = this.#capacity > 0;
    // About one word (eight counters) per entry, as Caffeine's one long (sixteen) per entry, halved.
    const words = Math.max(MIN_WORDS, ceilPowerOfTwo(capacity));
    this.#capacity = capacity;
    this.#table = new Uint32Array(words);
    this.#blockMask = words / BLOCK_WORDS - 1;
    const doorkeeperBits = Math.max(MIN_WORDS * 32, ceilPowerOfTwo(capacity * DOORKEEPER_BITS_PER_ENTRY));
    this.#doorkeeper = new Uint32Array(doorkeeperBits >>> 5);
    this.#doorkeeperMask = doorkeeperBits - 1;
    this.#sampleSize = Math.max(capacity, 1) * SAMPLE_FACTOR;
    this.#additions = 0;
    // Counts held outside (see tick) are forgotten too: as many passes as zero any count.
    if (inUse) this.#ages += COUNTER_BITS;
  }

  /**
   * Aging passes so far: a holder of counts kept outside the sketch halves them once per pass. A reset
   * (see {@link ensureCapacity}) counts as enough passes to zero them.
   */
  get ages(): number {
    return this.#ages;
  }

  /**
   * Estimated accesses of the key with this hash since the last aging passes, 0 to 16.
   * @param held Accesses of the key counted outside the sketch (a cached entry's own hit count, see
   *   {@link tick}), already halved for the passes since: added to the counters' estimate, which
   *   saturates as the counters do.
   */
  frequency(hash: number, held = 0): number {
    const counterHash = mix32(hash);
    const min = Math.min(COUNTER_MAX, this.#counted(hash, counterHash) + held);
    return this.#doorkeeperHas(hash, counterHash) ? min + 1 : min;
  }

  /**
   * Whether the counters hold the key: seen at least twice since the last aging pass (a first sighting
   * stops at the doorkeeper). Unlike {@link frequency} > 0 this ignores the doorkeeper, a Bloom filter
   * that fills as one-off keys arrive: measured, it took 14 % of 50,000 never-seen keys for seen ones.
   * A false answer needs all four counters to collide.
   */
  repeated(hash: number): boolean {
    return this.#counted(hash, mix32(hash)) > 0;
  }

  /** The count-min estimate: the least of the key's four counters. */
  #counted(hash: number, counterHash: number): number {
    const block = (hash & this.#blockMask) * BLOCK_WORDS;
    const table = this.#table;
    let min = COUNTER_MAX;
    for (let row = 0; row < 4; row++) {
      const bits = counterHash >>> (row << 3);
      const word = table[block + (row << 2) + ((bits >>> 3) & 3)] as number;
      const count = (word >>> ((bits & 7) << 2)) & COUNTER_MAX;
      if (count < min) min = count;
    }
    return min;
  }

  /** Records one access of the key with this hash. */
  increment(hash: number): void {
    const counterHash = mix32(hash);
    if (!this.#doorkeeperHas(hash, counterHash)) {
      this.#doorkeeperAdd(hash, counterHash);
      if (++this.#additions >= this.#sampleSize) this.#age();
      return;
    }
    // Saturated everywhere: nothing changed, and the sample does not advance.
    if (this.#addCounters(hash, counterHash, 1) && ++this.#additions >= this.#sampleSize) this.#age();
  }

  /**
   * Advances the sample by one access that the caller counts itself: a cache hit, which the tier
   * counts in the entry's own record (already in the CPU's cache) and hands over with {@link add}
   * when the entry leaves. Aging keeps its pace: every recorded access still counts towards it.
   */
  tick(): void {
    if (++this.#additions >= this.#sampleSize) this.#age();
  }

  /**
   * Adds accesses counted outside the sketch (see {@link tick}, which already advanced the sample for
   * them) to the key's counters, each saturating. A cached entry's hits are never its first sighting,
   * so the doorkeeper is not consulted.
   */
  add(hash: number, count: number): void {
    if (count > 0) this.#addCounters(hash, mix32(hash), count);
  }

  /** Adds `count` to each of the key's four counters, each saturating. @returns whether any changed. */
  #addCounters(hash: number, counterHash: number, count: number): boolean {
    const block = (hash & this.#blockMask) * BLOCK_WORDS;
    const table = this.#table;
    let changed = false;
    for (let row = 0; row < 4; row++) {
      const bits = counterHash >>> (row << 3);
      const index = block + (row << 2) + ((bits >>> 3) & 3);
      const shift = (bits & 7) << 2;
      const word = table[index] as number;
      const added = Math.min(COUNTER_MAX - ((word >>> shift) & COUNTER_MAX), count);
      if (added > 0) {
        table[index] = word + added * (1 << shift);
        changed = true;
      }
    }
    return changed;
  }

  // The doorkeeper's two probes reuse the two hashes the counters use: no extra mixing.
  #doorkeeperHas(hash: number, counterHash: number): boolean {
    const doorkeeper = this.#doorkeeper;
    const mask = this.#doorkeeperMask;
    return hasBit(doorkeeper, hash & mask) && hasBit(doorkeeper, counterHash & mask);
  }

  #doorkeeperAdd(hash: number, counterHash: number): void {
    setBit(this.#doorkeeper, hash & this.#doorkeeperMask);
    setBit(this.#doorkeeper, counterHash & this.#doorkeeperMask);
  }

  /** Halves every counter and clears the doorkeeper. */
  #age(): void {
    const table = this.#table;
    let odd = 0;
    for (let i = 0; i < table.length; i++) {
      const word = table[i] as number;
      odd += popcount(word & ODD_MASK);
      table[i] = (word >>> 1) & HALVE_MASK;
    }
    this.#doorkeeper.fill(0);
    this.#ages++;
    // Each key spans four counters; truncation lost half a count in each odd one.
    this.#additions = Math.max(0, (this.#additions - (odd >>> 2)) >>> 1);
  }
}

function popcount(word: number): number {
  let v = word - ((word >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) as number;
}
