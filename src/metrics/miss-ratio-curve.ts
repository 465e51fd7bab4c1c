/**
 * A live miss-ratio curve by miniature simulation (Waldspurger, Saemundsson, Ahmad, Park, "Cache Modeling
 * and Optimization using Miniature Simulations", USENIX ATC 2017; the sampling is SHARDS, FAST 2015):
 * "what would the hit rate be with N× the memory?", answered for the cache's own policy.
 *
 * - **Spatial sampling.** A key takes part in the simulation of size s × C (C: the L1's capacity) when its
 *   32-bit hash is below rate(s) × 2³², rate(s) = m / (s × C): each simulation sees the same keys every
 *   time, a rate(s) share of them, so it reproduces the reuse pattern of the whole stream scaled down.
 *   Its cache holds m entries (or s × C if that is smaller; then rate = 1 and it is exact).
 * - **The cache's own policy.** Each simulation is a `MemoryTier` (W-TinyLFU) of its scaled size fed the
 *   sampled hashes — so the curve reflects admission and frequency, not just LRU stack distances, which
 *   is what the removal log's 2×/4× estimate assumed. Each tunes its own window, as an L1 of that size
 *   would: the best window moves with the size (lirs-sprite hits most with a 1 % window at 71 entries,
 *   an 80 % one at 708), and copying the L1's window into every size mispredicted such traces by up to
 *   7 points.
 * - **Off the hit path.** The L1 hands over a hash on a hit or an insert only when it is below the
 *   largest rate (one comparison otherwise); hashes wait in a ring and are simulated in batches on the
 *   miss path or by `stats()`. A full ring drops samples, it never blocks.
 * - **Adjusted.** A mini-cache is biased at small m; like Waldspurger's SHARDS-adj, the curve is reported
 *   relative to the simulation at 1×: predicted(s) = actual + sim(s) − sim(1).
 */
import { SampleRing, Shadow, sampleThreshold } from '../memory/shadow.js';
import { CANDIDATE_WINDOWS, INITIAL_WINDOW } from '../memory/window-tuner.js';

/** The sizes simulated, as multiples of the L1's capacity. */
export const CURVE_SCALES: readonly number[] = [0.25, 0.5, 1, 2, 4, 8, 16];
/**
 * Entries of the miniature cache at 1× (the others scale with it; all seven hold ~32× this). Measured
 * (`npm run bench -- curve`, every simulation tuning its own window): 512 → mean error 0.73 points, max
 * 4.0, 96 % within 3 (Zipf 1.0 at 4× overshoots: the sample is too small for such skew); 1024 → 0.48,
 * max 4.0 (one short trace, whose actual hit rate itself moves 4 points with the seed), 98 %.
 */
const MINI_ENTRIES = 1024;
/**
 * Most entries each shadow of a simulation's window tuner holds. Measured with 1024-entry minis: 256 →
 * mean error 0.48, 128 → 0.69; with 512-entry minis, 512 (the L1's own cap) did no better than 256
 * (0.71 vs 0.73) for ~0.6 MB more.
 */
const MINI_TUNER_SHADOW_ENTRIES = 256;
/** Fewer entries at 1× than this say too little: no curve. */
const MIN_MINI_ENTRIES = 32;
/** Heap bytes per simulated entry (a memory tier's slot, index entry and sketch share), measured ~100. */
const BYTES_PER_ENTRY = 100;
/** The simulations' entries per entry at 1×: the sum of {@link CURVE_SCALES} (31.75). */
const ENTRIES_PER_UNIT = CURVE_SCALES.reduce((sum, scale) => sum + scale, 0);
/** Most entries the simulations' window tuners hold together: each of seven has six capped shadows. */
const TUNER_ENTRIES_MAX = CURVE_SCALES.length * CANDIDATE_WINDOWS.length * MINI_TUNER_SHADOW_ENTRIES;

/** How large the simulations are, and whether they tune their windows (see {@link MissRatioCurve.sizeFor}). */
export interface CurveSize {
  /** The miniature cache's entries at 1×. */
  readonly entries: number;
  /** Whether each simulation tunes its own window; a small byte budget keeps them at the initial window. */
  readonly tuned: boolean;
}

/** Cumulative figures of every simulation, by scale (index into {@link CURVE_SCALES}). */
export interface CurveTotals {
  readonly hits: readonly number[];
  readonly accesses: readonly number[];
}

/**
 * Hits and accesses in each simulation (by scale) of one group of sampled keys: a namespace's, for its
 * own health. Mutable; a class, touched per sample.
 */
export class CurveCounts implements CurveTotals {
  readonly hits: number[] = CURVE_SCALES.map(() => 0);
  readonly accesses: number[] = CURVE_SCALES.map(() => 0);

  /** Adds another group's figures into this one. */
  add(other: CurveTotals): this {
    for (let i = 0; i < CURVE_SCALES.length; i++) {
      this.hits[i] = (this.hits[i] as number) + (other.hits[i] as number);
      this.accesses[i] = (this.accesses[i] as number) + (other.accesses[i] as number);
    }
    return this;
  }
}

/** The simulations of one L1, and the ring of samples waiting for them. */
export class MissRatioCurve {
  /** Hashes below this are sampled (the largest rate of any simulation). */
  readonly sampleBelow: number;
  readonly #minis: Shadow[];
  readonly #ring = new SampleRing();
  /** The group of each queued sample, beside the ring's hashes. */
  readonly #groups: (CurveCounts | undefined)[] = [];
  readonly #groupOf: ((physical: string) => CurveCounts) | undefined;
  /** Keys of the root group need no entry: this holds the sampled L1 keys of other groups only. */
  readonly #groupByHash = new Map<number, CurveCounts>();
  readonly #rootGroup: CurveCounts | undefined;

  /**
   * The simulations for an L1 of `capacity` entries bounded by `maxBytes`: they and their window tuners
   * take at most a quarter of `maxBytes`. When that is too little for tuned simulations of at least
   * {@link MIN_MINI_ENTRIES}, they keep a fixed window (less faithful where the best window depends on
   * the size, but a curve); `undefined` when even that leaves too little.
   */
  static sizeFor(capacity: number, maxBytes: number): CurveSize | undefined {
    const budget = maxBytes / 4 / BYTES_PER_ENTRY;
    const fits = (entries: number) => entries >= MIN_MINI_ENTRIES || entries >= capacity;
    // A simulation's tuner holds six shadows of min(cap, its size) entries, so the tuners together hold
    // at most min(TUNER_ENTRIES_MAX, 6 × the simulations' entries): the largest size under either bound.
    const tunedByBytes = Math.max(
      (budget - TUNER_ENTRIES_MAX) / ENTRIES_PER_UNIT,
      budget / (ENTRIES_PER_UNIT * (1 + CANDIDATE_WINDOWS.length)),
    );
    const tuned = Math.min(MINI_ENTRIES, Math.floor(tunedByBytes), Math.ceil(capacity));
    if (fits(tuned)) return { entries: tuned, tuned: true };
    const fixed = Math.min(MINI_ENTRIES, Math.floor(budget / ENTRIES_PER_UNIT), Math.ceil(capacity));
    return fits(fixed) ? { entries: fixed, tuned: false } : undefined;
  }

  /**
   * @param capacity The L1's capacity in entries.
   * @param size The simulations' size at 1×, and whether they tune (see {@link sizeFor}).
   * @param groupOf The group a physical key's samples count in (its namespace's), besides the totals;
   *   the root key `''` names the group that needs no lookup.
   */
  constructor(capacity: number, size: CurveSize, random: () => number, groupOf?: (physical: string) => CurveCounts) {
    this.#groupOf = groupOf;
    this.#rootGroup = groupOf?.('');
    const { entries, tuned } = size;
    // One sampling rate for every size, so all simulations see the same keys: the sample's own bias (a
    // very hot key in or out) is shared by every point, and the adjustment to 1× cancels it.
    const rate = Math.min(1, entries / capacity);
    this.#minis = CURVE_SCALES.map(
      (scale) =>
        new Shadow(
          Math.max(1, Math.round(scale * capacity * rate)),
          tuned ? undefined : INITIAL_WINDOW,
          random,
          MINI_TUNER_SHADOW_ENTRIES,
        ),
    );
    this.sampleBelow = sampleThreshold(rate);
  }

  /**
   * Queues an accessed key's hash (the caller checked it is below {@link sampleBelow}). An insert passes
   * the key, which files the hash under its group; a hit finds the group by the hash.
   */
  sample(hash: number, physical?: string): void {
    const ring = this.#ring;
    const at = ring.length;
    ring.push(hash);
    if (this.#groupOf === undefined || ring.length === at) return;
    const byHash = this.#groupByHash;
    let group = this.#rootGroup;
    if (physical !== undefined) {
      group = this.#groupOf(physical);
      if (group !== this.#rootGroup) byHash.set(hash, group);
      else if (byHash.size !== 0) byHash.delete(hash);
    } else if (byHash.size !== 0) {
      group = byHash.get(hash) ?? group;
    }
    this.#groups[at] = group;
  }

  /** A sampled key left the L1: its next access is an insert, which files it again. */
  forget(hash: number): void {
    if (this.#groupByHash.size !== 0) this.#groupByHash.delete(hash);
  }

  /** The L1 was cleared. */
  forgetAll(): void {
    this.#groupByHash.clear();
  }

  /** Samples waiting for {@link drain}. */
  get pending(): number {
    return this.#ring.length;
  }

  /** Runs the queued samples through the simulations. */
  drain(): void {
    const ring = this.#ring;
    const minis = this.#minis;
    const groups = this.#groups;
    // One rate for every size: each queued hash belongs to every simulation.
    for (let i = 0; i < ring.length; i++) {
      const hash = ring.hashes[i] as number;
      const group = groups[i];
      for (let scale = 0; scale < minis.length; scale++) {
        const hit = (minis[scale] as Shadow).access(hash);
        if (group !== undefined) {
          group.accesses[scale] = (group.accesses[scale] as number) + 1;
          if (hit) group.hits[scale] = (group.hits[scale] as number) + 1;
        }
      }
    }
    ring.length = 0;
  }

  /** Cumulative hits and accesses of each simulation (drains first). */
  totals(): CurveTotals {
    this.drain();
    return { hits: this.#minis.map((m) => m.hits), accesses: this.#minis.map((m) => m.accesses) };
  }
}

/**
 * The predicted hit rate at each scale over a window: the window's actual L1 hit rate, moved by how much
 * the simulations gain (or lose) over the one at 1×. `undefined` where a simulation saw too few samples.
 */
export function predictCurve(
  now: CurveTotals,
  then: CurveTotals,
  actual: number,
  minSamples = 200,
): (number | undefined)[] {
  const rate = (i: number): number | undefined => {
    const accesses = (now.accesses[i] as number) - (then.accesses[i] as number);
    return accesses < minSamples ? undefined : ((now.hits[i] as number) - (then.hits[i] as number)) / accesses;
  };
  const base = rate(CURVE_SCALES.indexOf(1));
  return CURVE_SCALES.map((_, i) => {
    const r = rate(i);
    if (r === undefined || base === undefined) return undefined;
    return Math.min(1, Math.max(0, actual + r - base));
  });
}
