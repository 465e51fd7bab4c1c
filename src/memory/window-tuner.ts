/**
 * Sizes the L1's admission window by miniature simulation: shadow caches with fixed windows run on a
 * sample of the same accesses, and the L1 takes the window of the one that has lately hit most.
 *
 * ## Why not a hill climber
 *
 * W-TinyLFU's best window depends on the workload: ~1 % for frequency-skewed traffic, most of the cache
 * for recency-heavy traffic (database-object and session caches), where TinyLFU's filter turns away the
 * keys about to be re-read. Caffeine's climber (Einziger et al., "Adaptive Software Cache Management",
 * Middleware 2018) compares the hit rate of one sample with the previous one; on a phasey workload that
 * difference is the workload's own swing, not the window's effect, and on short or shifting traces it
 * settles late or on the wrong side (measured: a sliding working set 13 points below LRU; lirs-sprite
 * at 10 % 2.5 below). The counterfactual — what another window would have hit on *these* requests — is
 * what it cannot see.
 *
 * ## How
 *
 * Waldspurger et al. ("Cache Modeling and Optimization using Miniature Simulations", USENIX ATC 2017)
 * tune a cache's parameters online by running scaled-down copies of it with other parameter values on a
 * spatially hashed sample of the keys (SHARDS): a key is in the sample when its hash is below
 * rate × 2³², so each shadow sees every access to the keys it holds and reproduces their reuse pattern.
 * Here the shadows are W-TinyLFU tiers of `rate × C` entries with windows of 1 %, 5 %, 20 %, 50 %, 80 %
 * and 100 % of the capacity — the last is exactly LRU (no main space, nothing to filter), so the L1
 * falls back to LRU wherever LRU measurably wins. Every epoch (as many sampled accesses as a shadow
 * holds) each shadow's hits are added to a score that decays by {@link DECAY}, and the L1 takes the
 * leader's window once its lead is beyond noise ({@link SWITCH_SIGMAS}): a follow-the-leader over a
 * memory of ~10 epochs of what each window would have done.
 *
 * ## Cost
 *
 * Nothing on the hit path but the one comparison the tier already makes for sampling; a sampled hash
 * waits in a ring and the shadows run in bounded batches on the miss path and on a timer (a full ring
 * drops samples; it never makes one call wait for thousands of simulated accesses). A shadow holds at most
 * {@link SHADOW_ENTRIES} entries (~50 kB each), so a large L1 samples a small share of its keys; an
 * L1 of up to {@link SHADOW_ENTRIES} entries is simulated in full, costing six shadow operations per
 * access — on the miss path, which waits for the shared tier or the database anyway.
 */
import { SampleRing, Shadow, sampleThreshold } from './shadow.js';

/** The windows tried, as shares of the capacity; 1 is LRU. */
export const CANDIDATE_WINDOWS: readonly number[] = [0.01, 0.05, 0.2, 0.5, 0.8, 1];
/** The window before the first epoch (Caffeine's start): scan-resistant until the shadows say otherwise. */
export const INITIAL_WINDOW = 0.01;
/** Most entries a shadow holds; the sample rate is this over the L1's capacity (measured: 256 does as well). */
const SHADOW_ENTRIES = 512;
/** Fewer entries than this per shadow say too little about the capacity: the window stays fixed. */
const MIN_SHADOW_ENTRIES = 32;
/** Heap bytes a shadow entry costs (slot, index entry, sketch share), measured ~100. */
const BYTES_PER_ENTRY = 100;
/** The shadows take at most this share of a byte-bounded L1's budget. */
const BYTE_BUDGET_SHARE = 1 / 8;
/** Each epoch keeps this share of the earlier score: a memory of ~10 epochs. */
const DECAY = 0.9;
/**
 * The leader must beat the current window by this many standard deviations of hit-count noise (hits are
 * roughly Poisson: σ of a difference ≈ √(a + b)) before the window moves. Measured over 5 seeds on the
 * trace cells: 0 → mean gap closed 43.7 %, worst −0.028; 2 → 45.0 %, worst −0.016; 3 → 44.3 %.
 */
const SWITCH_SIGMAS = 2;
const TWO_32 = 2 ** 32;

/** The shadows of one L1, their scores, and the ring of samples waiting for them. */
export class WindowTuner {
  /** Hashes (unsigned) below this are sampled. */
  readonly sampleBelow: number;
  readonly #shadows: Shadow[];
  readonly #scores: Float64Array;
  readonly #epoch: number;
  readonly #ring = new SampleRing();
  #inEpoch = 0;
  #leader: number;

  /**
   * How many entries each shadow of an L1 holding `capacity` entries gets, within `maxBytes` and at most
   * `most`; `undefined` when that is too few to tell windows apart.
   */
  static shadowEntries(capacity: number, maxBytes: number, most = SHADOW_ENTRIES): number | undefined {
    const byBytes = Math.floor((maxBytes * BYTE_BUDGET_SHARE) / (CANDIDATE_WINDOWS.length * BYTES_PER_ENTRY));
    const entries = Math.min(most, Math.ceil(capacity), byBytes);
    return entries < MIN_SHADOW_ENTRIES && entries < capacity ? undefined : entries;
  }

  /**
   * @param capacity The L1's capacity in entries (for a byte-bounded L1, the entries it held when full).
   * @param entries Each shadow's size (see {@link shadowEntries}).
   * @param current The L1's window now.
   * @param seed Seeds the shadows' own randomness, so tuning never draws from the cache's source.
   */
  constructor(capacity: number, entries: number, current: number, seed: number) {
    const random = lcg(seed);
    const rate = Math.min(1, entries / capacity);
    this.sampleBelow = sampleThreshold(rate);
    const size = Math.max(1, Math.round(capacity * rate));
    this.#shadows = CANDIDATE_WINDOWS.map((window) => new Shadow(size, window, random));
    this.#scores = new Float64Array(CANDIDATE_WINDOWS.length);
    this.#epoch = size;
    const closest = CANDIDATE_WINDOWS.findIndex((window) => window >= current);
    this.#leader = closest === -1 ? CANDIDATE_WINDOWS.length - 1 : closest;
  }

  /** Queues a sampled hash (the caller checked it is below {@link sampleBelow}). */
  sample(hash: number): void {
    this.#ring.push(hash);
  }

  /** Samples waiting for {@link drain}. */
  get pending(): number {
    return this.#ring.length;
  }

  /** The window of the shadow with the best decayed record. */
  get window(): number {
    return CANDIDATE_WINDOWS[this.#leader] as number;
  }

  /**
   * Runs up to `max` of the oldest queued samples through the shadows, closing epochs as they fill.
   * @returns {@link window}.
   */
  drain(max = Number.POSITIVE_INFINITY): number {
    const ring = this.#ring;
    const count = Math.min(ring.length, max);
    for (let i = 0; i < count; i++) {
      const hash = ring.hashes[ring.slot(i)] as number;
      for (const shadow of this.#shadows) shadow.access(hash);
      if (++this.#inEpoch >= this.#epoch) this.#closeEpoch();
    }
    ring.consume(count);
    return this.window;
  }

  #closeEpoch(): void {
    const scores = this.#scores;
    const leader = this.#leader;
    // A shadow's hits count this epoch's only: the tuner owns them and resets them.
    this.#shadows.forEach((shadow, s) => {
      scores[s] = (scores[s] as number) * DECAY + shadow.hits;
      shadow.hits = 0;
    });
    let best = leader;
    for (let s = 0; s < scores.length; s++) if ((scores[s] as number) > (scores[best] as number)) best = s;
    // Switching costs hits (the tier's contents lag its new window), so only a lead beyond noise moves it.
    const lead = (scores[best] as number) - (scores[leader] as number);
    if (lead > SWITCH_SIGMAS * Math.sqrt((scores[best] as number) + (scores[leader] as number))) this.#leader = best;
    this.#inEpoch = 0;
  }
}

/** A linear congruential generator (Numerical Recipes' constants): enough for hash seeds and tie-breaks. */
function lcg(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) | 0;
    return (state >>> 0) / TWO_32;
  };
}
