/**
 * Keys TinyLFU's admission filter turned away within about the last C reads (C: the tier's capacity in
 * entries), so that such a key, read again that soon, is admitted whatever the sketch says.
 *
 * Why: the filter ranks by frequency, so a key that is re-read at short distance but was not popular
 * before loses to an older favourite again and again — on recency-heavy traces W-TinyLFU then falls
 * below LRU and ARC (lirs-cpp at 10 %: 1.3 points below ARC, whatever the window). A key read again
 * within C reads of being turned away is one an LRU of the same size would likely have kept. ARC keeps
 * the same evidence in its ghost list B1 (Megiddo & Modha, FAST 2003) and grows its recency side on a
 * ghost hit; here the key itself goes in. A scan is unaffected (its keys are read once), and so is a
 * loop longer than the cache (its keys come back after more than C reads).
 *
 * How: two Bloom filters take turns, each collecting the rejections of half a span (C / 2 reads); a key
 * is "recently rejected" when either holds it: turned away fewer than C / 2 reads ago for certain, and
 * never C or more (false positives aside). A false positive admits a key the filter should have turned
 * away, and on a loop nearly every candidate is turned away, so every duel asks: three probes and 32
 * bits per key a filter may collect keep that under 0.1 % (two probes at 16 bits, ~2 %, cost lirs-loop
 * at 10 % two of its eight points). About 4 bytes per entry of the tier.
 */
import { ceilPowerOfTwo, hasBit, setBit } from './bloom.js';
import { mix32 } from './hash.js';

/** Bits per key a filter may collect (C / 2 of them): false positives ≈ (1 − e^(−3/32))³ ≈ 0.07 %. */
const BITS_PER_KEY = 32;
/** Smallest filter, in bits: tiny tiers still spread their keys. */
const MIN_BITS = 1024;

/** Recently rejected key hashes, over a sliding span of reads (see the module comment). */
export class RecentRejections {
  #current = new Uint32Array(MIN_BITS >>> 5);
  #previous = new Uint32Array(MIN_BITS >>> 5);
  #mask = MIN_BITS - 1;
  /** Reads per half span: the filters swap roles at each multiple of it. */
  #half = 1;
  /** The half span the current filter collects: `floor(reads / half)` (after a resize, both are empty). */
  #epoch = 0;
  #capacity = 0;

  /** @param capacity The tier's capacity in entries: the span is this many reads. */
  constructor(capacity: number) {
    this.ensureCapacity(capacity);
  }

  /** Resizes for a larger tier (a byte-bounded one learns its entry count as it fills), forgetting all. */
  ensureCapacity(capacity: number): void {
    if (capacity <= this.#capacity) return;
    this.#capacity = capacity;
    this.#half = Math.max(1, Math.floor(capacity / 2));
    const bits = Math.max(MIN_BITS, ceilPowerOfTwo(this.#half * BITS_PER_KEY));
    this.#current = new Uint32Array(bits >>> 5);
    this.#previous = new Uint32Array(bits >>> 5);
    this.#mask = bits - 1;
  }

  /** Records that the key with this hash was turned away, at read count `reads`. */
  add(hash: number, reads: number): void {
    this.#advance(reads);
    const filter = this.#current;
    // Three probes by double hashing (Kirsch & Mitzenmacher): h, h + h′, h + 2h′.
    const step = mix32(hash);
    const mask = this.#mask;
    setBit(filter, hash & mask);
    setBit(filter, (hash + step) & mask);
    setBit(filter, (hash + 2 * step) & mask);
  }

  /** Whether the key with this hash was turned away within the span before read count `reads`. */
  has(hash: number, reads: number): boolean {
    this.#advance(reads);
    const step = mix32(hash);
    return holds(this.#current, hash, step, this.#mask) || holds(this.#previous, hash, step, this.#mask);
  }

  /**
   * Swaps the filters when a new half span begins (at multiples of `half` reads, however sparse the
   * calls): a key turned away in half span e is held through e + 1, so for at least C / 2 reads and
   * fewer than C.
   */
  #advance(reads: number): void {
    const epoch = Math.floor(reads / this.#half);
    if (epoch === this.#epoch) return;
    const stale = this.#previous;
    stale.fill(0);
    if (epoch > this.#epoch + 1) this.#current.fill(0);
    this.#previous = this.#current;
    this.#current = stale;
    this.#epoch = epoch;
  }
}

function holds(filter: Uint32Array, hash: number, step: number, mask: number): boolean {
  return (
    hasBit(filter, hash & mask) && hasBit(filter, (hash + step) & mask) && hasBit(filter, (hash + 2 * step) & mask)
  );
}
