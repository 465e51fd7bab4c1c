/**
 * When the sampled accesses are simulated — the L1 window tuner's shadows and the miss-ratio curve's
 * scaled caches — so that neither a request nor the CPU pays more than its share:
 *
 * - **A timer** (every {@link TICK_MS}) runs them in bulk, off every request: a sample run alone between
 *   other work costs several times what it costs in a batch.
 * - **The tuner** is the L1's policy: an insert runs up to 64 of its samples (the memory tier), the timer
 *   up to {@link TUNER_TICK_SAMPLES} more.
 * - **The curve** is monitoring, and spends from a CPU budget (`health.curveBudget`, 3 % of a core by
 *   default: `metrics/simulation-budget.ts`). Once a second the curve's rate control reads what the
 *   period cost and whether samples were dropped, and halves or doubles the simulations.
 * - **A miss** runs curve samples only when they pile up past half the ring (a busy loop, where no timer
 *   fires), {@link CURVE_BATCH} at a time and within the budget. It used to run the whole ring: one miss
 *   of a 1,000-entry L1 waited 47 ms after a burst of hits.
 */
import type { MemoryTier } from '../memory/memory-tier.js';
import { RING } from '../memory/shadow.js';
import type { MissRatioCurve } from '../metrics/miss-ratio-curve.js';
import { SimulationBudget } from '../metrics/simulation-budget.js';

/** How often the timer runs queued samples. */
const TICK_MS = 50;
/** Most tuner samples the timer runs per tick (~3 µs each). */
const TUNER_TICK_SAMPLES = 512;
/** Longest the curve runs in one tick, whatever the budget holds (longer only for a budget over 10 %). */
const CURVE_TICK_MAX_MS = 5;
/** How often the curve's rate control looks at the last period. */
const ADAPT_MS = 1000;
/** A miss helps with the curve's samples only past this backlog, and runs at most this many. */
const CURVE_BACKLOG = RING / 2;
const CURVE_BATCH = 16;
/** Curve samples run between two looks at the clock. */
const CURVE_SLICE = 16;

/** The schedule of one L1's simulations. */
export class Simulations {
  readonly #l1: MemoryTier;
  readonly #curve: MissRatioCurve | undefined;
  readonly #budget: SimulationBudget;
  readonly #share: number;
  readonly #timer: NodeJS.Timeout;
  readonly #tickMaxMs: number;
  #periodStart: number;
  readonly #slice = (): boolean => (this.#curve as MissRatioCurve).drain(CURVE_SLICE) > 0;
  readonly #batch = (): boolean => {
    (this.#curve as MissRatioCurve).drain(CURVE_BATCH);
    return false;
  };

  /** @param share The curve's CPU budget, a share of one core. */
  constructor(l1: MemoryTier, curve: MissRatioCurve | undefined, share: number) {
    this.#l1 = l1;
    this.#curve = curve;
    this.#share = share;
    this.#tickMaxMs = Math.max(CURVE_TICK_MAX_MS, share * TICK_MS);
    this.#budget = new SimulationBudget(share, () => performance.now());
    this.#periodStart = performance.now();
    this.#timer = setInterval(() => this.#tick(), TICK_MS).unref();
  }

  #tick(): void {
    this.#l1.tune(TUNER_TICK_SAMPLES);
    const curve = this.#curve;
    if (curve === undefined) return;
    if (curve.pending > 0) this.#budget.run(this.#slice, this.#tickMaxMs);
    const now = performance.now();
    const period = now - this.#periodStart;
    if (period < ADAPT_MS) return;
    this.#periodStart = now;
    // The L1 caches the largest threshold it samples below: a resized curve must be handed over again.
    if (curve.adapt(this.#budget.takeSpent() / period, this.#share)) this.#l1.sampler = curve;
  }

  /** On a miss: helps only with a backlog no timer cleared, a small batch within the budget. */
  onMiss(): void {
    const curve = this.#curve;
    if (curve !== undefined && curve.pending >= CURVE_BACKLOG) this.#budget.run(this.#batch);
  }

  /** Before a health report: runs what the budget allows, so the report is as fresh as it can afford. */
  beforeReport(): void {
    if (this.#curve !== undefined && this.#curve.pending > 0) this.#budget.run(this.#slice);
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
