/**
 * The parts every miniature simulation shares (the window tuner's shadows, the miss-ratio curve's
 * scaled caches): a fixed-window memory tier fed sampled key hashes, and the ring they wait in.
 */
import { MemoryTier, MISS } from './memory-tier.js';

/** Sampled hashes a ring holds before its simulations run them (a power of two: slots wrap by mask). */
export const RING = 8192;
const TWO_32 = 2 ** 32;

/** The unsigned hash below which a key is sampled at `rate` (spatial sampling, SHARDS). */
export function sampleThreshold(rate: number): number {
  return rate >= 1 ? TWO_32 : Math.floor(rate * TWO_32);
}

/**
 * A memory tier fed sampled hashes, counting its hits: of a fixed window (the window tuner's shadows), or
 * tuning its own on shadows of at most `tunerShadowEntries` (the miss-ratio curve's simulations). A class:
 * long-lived, touched per sample.
 */
export class Shadow {
  hits = 0;
  accesses = 0;
  readonly #tier: MemoryTier;

  constructor(entries: number, window: number | undefined, random: () => number, tunerShadowEntries?: number) {
    const limits = { maxEntries: entries, maxBytes: Number.POSITIVE_INFINITY };
    this.#tier = new MemoryTier(limits, random, undefined, window, tunerShadowEntries);
  }

  /** Reads the key of this hash, setting it on a miss. @returns whether it hit. */
  access(hash: number): boolean {
    this.accesses++;
    const key = String(hash);
    if (this.#tier.get(key, 0) !== MISS) {
      this.hits++;
      return true;
    }
    this.#tier.set(key, true, 1, Number.POSITIVE_INFINITY, 0);
    return false;
  }
}

/**
 * Sampled hashes waiting for a batch, oldest first, in a circular buffer (running part of the batch
 * moves nothing); a full ring drops samples, it never blocks the access.
 */
export class SampleRing {
  readonly hashes = new Uint32Array(RING);
  /** Slot of the oldest sample. */
  #head = 0;
  length = 0;

  /** Queues a hash. @returns its slot, or -1 when the ring is full (the sample is dropped). */
  push(hash: number): number {
    if (this.length === RING) return -1;
    const slot = (this.#head + this.length++) & (RING - 1);
    this.hashes[slot] = hash;
    return slot;
  }

  /** The slot of the `i`-th oldest sample. */
  slot(i: number): number {
    return (this.#head + i) & (RING - 1);
  }

  /** Drops the `count` oldest samples (they ran), keeping the rest in arrival order. */
  consume(count: number): void {
    const taken = Math.min(count, this.length);
    this.#head = (this.#head + taken) & (RING - 1);
    this.length -= taken;
  }
}
