/**
 * Sizes the L1's admission window by miniature simulation: shadow caches with fixed windows run on a
 * sample of the same accesses, and the L1 takes the window of one that has lately hit more than its
 * own, by enough to pay for the move.
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
 * holds) each shadow's hits are added to a score that decays by {@link DECAY}: a memory of ~10 epochs
 * of what each window would have done. The L1 moves to another shadow's window when that shadow's lead
 * over the current one pays for the move and is beyond noise:
 *
 * - **Paired test.** The shadows run the *same* accesses, so most hits and misses are shared; only the
 *   accesses one shadow hit and the other missed tell two windows apart. Per ordered pair of shadows
 *   the tuner keeps the decayed count of those, and asks McNemar's question: are the wins `w` and
 *   losses `l` of the challenger against the current window more lopsided than chance,
 *   `(w − l) / √(w + l) > 2`? Comparing totals instead, with the Poisson noise of each, `√(a + b)`,
 *   counts the shared hits as noise: at an 85 % hit rate it needed a lead of ~4 points to move, and
 *   missed 1–2 point leads on web07 and web12 at 10 % that a 20 % window holds for the whole trace.
 * - **Switching cost.** A move is paid for in hits while the tier's contents catch up with the new
 *   window: about the slots whose segment the move changes, `|Δwindow| × size`, each worth the current
 *   hit rate. The lead must exceed that cost (in the shadows' units) before the test applies. Without
 *   it, the sharper test chased short-lived leads on short traces (lirs-cpp 10 %: 2.3 points below
 *   ARC instead of 1.1, over 4 seeds).
 * - **A lasting lead pays in the end.** The decayed lead is ~10 epochs of gain, so a fixed cost would
 *   keep a lead smaller than cost / 10 per epoch out forever (measured: a tier back on Zipf after a
 *   recency phase stayed at a 20 % window, 0.7 points below 1 %). A lead that has lasted k epochs is
 *   expected to last about k more (#challenger), so the cost is spread over that horizon.
 * - **Warm-up.** The shadows start empty when the L1 first evicts; the first {@link WARMUP_EPOCHS}
 *   epochs, while they fill and their contents still follow the fill order, move nothing.
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
/** The epochs a decayed score remembers: a steady per-epoch lead sums to this many times itself. */
const MEMORY_EPOCHS = 1 / (1 - DECAY);
/**
 * A challenger's wins over the current window, less the switching cost, must exceed this many standard
 * deviations of the paired noise, √(wins + losses), before the window moves (McNemar's test at ~2.3 %).
 */
const SWITCH_SIGMAS = 2;
/**
 * Epochs after the tuner starts (its shadows empty) that move nothing. Measured over the trace cells (4
 * seeds): 0 → mean gap closed 45.6 %, 2 → 45.8 %, with the cost fixed at one memory's worth.
 */
const WARMUP_EPOCHS = 2;
const TWO_32 = 2 ** 32;

/** The shadows of one L1, their scores, and the ring of samples waiting for them. */
export class WindowTuner {
  /** Hashes (unsigned) below this are sampled. */
  readonly sampleBelow: number;
  readonly #shadows: Shadow[];
  readonly #scores: Float64Array;
  /** Decayed count, for the ordered pair of shadows (i, j) at `i * n + j`, of accesses i hit and j missed. */
  readonly #wins: Float64Array;
  /** Decayed count of accesses, in step with the scores: a score over it is a hit rate. */
  #accesses = 0;
  readonly #epoch: number;
  #epochs = 0;
  /** Per shadow, epochs in a row it has been ahead of the current window. */
  readonly #ahead = new Float64Array(CANDIDATE_WINDOWS.length);
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
    this.#wins = new Float64Array(CANDIDATE_WINDOWS.length * CANDIDATE_WINDOWS.length);
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
      this.#run(hash);
      if (++this.#inEpoch >= this.#epoch) this.#closeEpoch();
    }
    ring.consume(count);
    return this.window;
  }

  /** Runs one access through every shadow, counting it for each pair where one hit and the other missed. */
  #run(hash: number): void {
    const shadows = this.#shadows;
    const n = shadows.length;
    let hit = 0;
    for (let s = 0; s < n; s++) if ((shadows[s] as Shadow).access(hash)) hit |= 1 << s;
    if (hit === 0 || hit === (1 << n) - 1) return;
    const wins = this.#wins;
    for (let i = 0; i < n; i++) {
      if ((hit & (1 << i)) === 0) continue;
      for (let j = 0; j < n; j++) if ((hit & (1 << j)) === 0) wins[i * n + j] = (wins[i * n + j] as number) + 1;
    }
  }

  #closeEpoch(): void {
    const scores = this.#scores;
    const wins = this.#wins;
    // A shadow's hits count this epoch's only: the tuner owns them and resets them.
    this.#shadows.forEach((shadow, s) => {
      scores[s] = (scores[s] as number) * DECAY + shadow.hits;
      shadow.hits = 0;
    });
    this.#accesses = this.#accesses * DECAY + this.#epoch;
    if (++this.#epochs > WARMUP_EPOCHS) this.#leader = this.#challenger();
    for (let i = 0; i < wins.length; i++) wins[i] = (wins[i] as number) * DECAY;
    this.#inEpoch = 0;
  }

  /**
   * The shadow whose lead over the current window pays for the move and is beyond noise, else the
   * current one. The lead `w − l` is a decayed sum, about {@link MEMORY_EPOCHS} epochs of gain; a lead
   * that has lasted `ahead` epochs is expected to last about as long again (the Lindy estimate of a
   * regime's remaining life), so the move's one-off cost is set against
   * `max(MEMORY_EPOCHS, ahead) / MEMORY_EPOCHS` times the lead: a young lead must pay the whole cost
   * at once; a lasting one, however small, moves the window in the end.
   */
  #challenger(): number {
    const scores = this.#scores;
    const wins = this.#wins;
    const ahead = this.#ahead;
    const n = scores.length;
    const leader = this.#leader;
    const hitRate = (scores[leader] as number) / this.#accesses;
    let best = leader;
    let bestZ = SWITCH_SIGMAS;
    for (let s = 0; s < n; s++) {
      const w = wins[s * n + leader] as number;
      const l = wins[leader * n + s] as number;
      if (s === leader || w <= l) {
        ahead[s] = 0;
        continue;
      }
      const epochsAhead = (ahead[s] as number) + 1;
      ahead[s] = epochsAhead;
      const shift = Math.abs((CANDIDATE_WINDOWS[s] as number) - (CANDIDATE_WINDOWS[leader] as number));
      const cost = shift * this.#epoch * hitRate;
      const z = (w - l - (cost * MEMORY_EPOCHS) / Math.max(MEMORY_EPOCHS, epochsAhead)) / Math.sqrt(w + l);
      if (z > bestZ) {
        bestZ = z;
        best = s;
      }
    }
    if (best !== leader) ahead.fill(0);
    return best;
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
