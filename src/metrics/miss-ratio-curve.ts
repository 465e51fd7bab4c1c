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
import { RING, SampleRing, Shadow, sampleThreshold } from '../memory/shadow.js';
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
/** Fewer entries at 1× than this say too little: no curve (and rate control halves no further). */
const MIN_MINI_ENTRIES = 32;
/** Periods in a row that dropped samples before the simulations halve: one burst is not a load. */
const OVERLOADED_PERIODS = 2;
/** Quiet periods in a row (no drops, under a quarter of the budget) before they double again. */
const IDLE_PERIODS = 60;
/**
 * After a resize, samples count again once the largest simulation could have filled this many times: the
 * new ones start empty beside a warm L1 and under-hit, the 16× one longest (5 s after a resize, 4× read
 * 13 points low). One wait for all sizes, so every point covers the same requests. A cold start needs
 * none: the L1 is empty too, and each simulation fills as a cache of its size would.
 */
const WARM_FILLS = 2;
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
  /**
   * The simulations' resize these counts began after ({@link MissRatioCurve.epoch}): the curve zeroes a
   * group the first time it counts for it after a resize, and a sum leaves out groups of an older epoch.
   */
  epoch = 0;

  /** Adds another group's figures into this one. */
  add(other: CurveTotals): this {
    for (let i = 0; i < CURVE_SCALES.length; i++) {
      this.hits[i] = (this.hits[i] as number) + (other.hits[i] as number);
      this.accesses[i] = (this.accesses[i] as number) + (other.accesses[i] as number);
    }
    return this;
  }

  /** A copy, epoch included. */
  copy(): CurveCounts {
    const copy = new CurveCounts().add(this);
    copy.epoch = this.epoch;
    return copy;
  }

  /** Starts counting afresh for the simulations of `epoch`. */
  restart(epoch: number): void {
    this.hits.fill(0);
    this.accesses.fill(0);
    this.epoch = epoch;
  }
}

/**
 * The simulations of one L1, and the ring of samples waiting for them. Their size at 1× — so the sampling
 * rate — follows the CPU they may use ({@link adapt}): halved while samples are dropped for want of
 * time, doubled back (to the size memory allows) once they use little of it.
 */
export class MissRatioCurve {
  /** Hashes below this are sampled (the largest rate of any simulation). */
  sampleBelow = 0;
  #minis: Shadow[] = [];
  readonly #ring = new SampleRing();
  readonly #capacity: number;
  readonly #tuned: boolean;
  readonly #random: () => number;
  /** The size at 1× that memory allows, and the size now. */
  readonly #maxEntries: number;
  #entries = 0;
  /** Samples the ring dropped since the last {@link adapt}. */
  #dropped = 0;
  /** Periods in a row with samples dropped, and with little of the budget used. */
  #overloaded = 0;
  #idle = 0;
  /** Samples the simulations must see after a resize before they count again. */
  #warming = 0;
  /** Resizes so far: counts from before the last one must not be mixed with counts after it. */
  #epoch = 0;
  /** The group of each queued sample, by its slot in the ring. */
  readonly #groups: (CurveCounts | undefined)[] = new Array(RING).fill(undefined);
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
    this.#capacity = capacity;
    this.#tuned = size.tuned;
    this.#random = random;
    this.#maxEntries = size.entries;
    this.#build(size.entries);
    this.#warming = 0;
    this.#epoch = 0;
  }

  /**
   * How many times the simulations were resized: a health window that spans a resize takes its curve
   * from the counts since (see {@link CurveCounts.epoch}).
   */
  get epoch(): number {
    return this.#epoch;
  }

  /** The simulations' size at 1× now (the sampling rate is this over the L1's capacity). */
  get entries(): number {
    return this.#entries;
  }

  #build(entries: number): void {
    // One sampling rate for every size, so all simulations see the same keys: the sample's own bias (a
    // very hot key in or out) is shared by every point, and the adjustment to 1× cancels it.
    const rate = Math.min(1, entries / this.#capacity);
    this.#entries = entries;
    const sizes = CURVE_SCALES.map((scale) => Math.max(1, Math.round(scale * this.#capacity * rate)));
    this.#minis = sizes.map(
      (size) => new Shadow(size, this.#tuned ? undefined : INITIAL_WINDOW, this.#random, MINI_TUNER_SHADOW_ENTRIES),
    );
    this.#warming = WARM_FILLS * (sizes[sizes.length - 1] as number);
    this.#epoch++;
    this.sampleBelow = sampleThreshold(rate);
    this.#ring.consume(RING);
    // Keys now above the threshold leave the sample; keys newly below it count with the root until
    // their next insert files them (the map holds only keys filed since they entered the L1).
    for (const hash of this.#groupByHash.keys()) if (hash >= this.sampleBelow) this.#groupByHash.delete(hash);
  }

  /**
   * Rate control, once a period (the core calls it about every second): after {@link OVERLOADED_PERIODS}
   * periods in a row that dropped samples (the budget could not keep up), halve the simulations (and so
   * the sampling rate), down to {@link MIN_MINI_ENTRIES}; after {@link IDLE_PERIODS} in a row that dropped
   * none and used under a quarter of the budget, double them, up to what memory allows. Halving keeps the
   * sample spatial (every access to a sampled key, as SHARDS needs), where dropping cuts it in time.
   * @param busyShare The share of the period the simulations ran; `share` the share they may.
   * @returns whether the size changed (the L1 must re-read {@link sampleBelow}).
   */
  adapt(busyShare: number, share: number): boolean {
    const dropped = this.#dropped;
    this.#dropped = 0;
    this.#overloaded = dropped > 0 ? this.#overloaded + 1 : 0;
    this.#idle = dropped === 0 && busyShare < share / 4 ? this.#idle + 1 : 0;
    let entries = this.#entries;
    if (this.#overloaded >= OVERLOADED_PERIODS && entries > MIN_MINI_ENTRIES) {
      entries = Math.max(MIN_MINI_ENTRIES, Math.floor(entries / 2));
    } else if (this.#idle >= IDLE_PERIODS && entries < this.#maxEntries) {
      entries = Math.min(this.#maxEntries, entries * 2);
    } else {
      return false;
    }
    this.#overloaded = 0;
    this.#idle = 0;
    this.#build(entries);
    return true;
  }

  /**
   * Queues an accessed key's hash (the caller checked it is below {@link sampleBelow}). An insert passes
   * the key, which files the hash under its group; a hit finds the group by the hash.
   */
  sample(hash: number, physical?: string): void {
    const ring = this.#ring;
    const slot = ring.push(hash);
    if (slot < 0) {
      this.#dropped++;
      return;
    }
    if (this.#groupOf === undefined) return;
    const byHash = this.#groupByHash;
    let group = this.#rootGroup;
    if (physical !== undefined) {
      group = this.#groupOf(physical);
      if (group !== this.#rootGroup) byHash.set(hash, group);
      else if (byHash.size !== 0) byHash.delete(hash);
    } else if (byHash.size !== 0) {
      group = byHash.get(hash) ?? group;
    }
    this.#groups[slot] = group;
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

  /** Runs up to `max` of the oldest queued samples through the simulations. @returns how many are still queued. */
  drain(max = Number.POSITIVE_INFINITY): number {
    const ring = this.#ring;
    const minis = this.#minis;
    const groups = this.#groups;
    const count = Math.min(ring.length, max);
    // One rate for every size: each queued hash belongs to every simulation.
    for (let i = 0; i < count; i++) {
      const slot = ring.slot(i);
      const hash = ring.hashes[slot] as number;
      let group = groups[slot];
      if (this.#warming > 0) {
        this.#warming--;
        group = undefined;
      }
      if (group !== undefined && group.epoch !== this.#epoch) group.restart(this.#epoch);
      for (let scale = 0; scale < minis.length; scale++) {
        const hit = (minis[scale] as Shadow).access(hash);
        if (group !== undefined) {
          group.accesses[scale] = (group.accesses[scale] as number) + 1;
          if (hit) group.hits[scale] = (group.hits[scale] as number) + 1;
        }
      }
    }
    ring.consume(count);
    return ring.length;
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
