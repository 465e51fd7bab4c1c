/**
 * Latency histograms: `getOrLoad` by outcome and loader runs, in Node's built-in HDR histogram
 * (`perf_hooks.createHistogram`, HdrHistogram_c maintained in Node core — no hand-rolled buckets).
 *
 * Misses, joins and loads are timed every time: they cost a query anyway. Hits are timed one in
 * `HIT_SAMPLE_EVERY`, because reading the clock twice would cost more than the hit itself; the hit
 * histogram's percentiles are those of the sample.
 */
import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { latencyChannel } from './channels.js';

/** One `getOrLoad` in this many is timed when it turns out to be a hit. */
export const HIT_SAMPLE_EVERY = 64;

/** How a `getOrLoad` ended. */
export type GetOrLoadOutcome = 'hit' | 'miss' | 'collapsed' | 'error';

/** Percentiles of one histogram, in milliseconds. */
export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Every latency the cache keeps. */
export interface LatencySummaries {
  /** `getOrLoad`, by how it ended (`hit` is sampled). */
  readonly getOrLoad: Readonly<Record<GetOrLoadOutcome, LatencySummary>>;
  /** Loader runs that returned. */
  readonly load: LatencySummary;
  /** Loader runs that threw. */
  readonly loadError: LatencySummary;
}

const NS_PER_MS = 1e6;

function summarize(histogram: RecordableHistogram): LatencySummary {
  const count = histogram.count;
  if (count === 0) return { count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
  return {
    count,
    p50: histogram.percentile(50) / NS_PER_MS,
    p90: histogram.percentile(90) / NS_PER_MS,
    p99: histogram.percentile(99) / NS_PER_MS,
    max: histogram.max / NS_PER_MS,
    mean: histogram.mean / NS_PER_MS,
  };
}

/** The cache's latency histograms. */
export class LatencyRecorder {
  readonly #getOrLoad: Record<GetOrLoadOutcome, RecordableHistogram> = {
    hit: createHistogram(),
    miss: createHistogram(),
    collapsed: createHistogram(),
    error: createHistogram(),
  };
  readonly #load = createHistogram();
  readonly #loadError = createHistogram();

  /** Records a `getOrLoad` that started at `startedMs` (a `performance.now()` reading). */
  getOrLoad(outcome: GetOrLoadOutcome, startedMs: number, namespace: string): void {
    record(this.#getOrLoad[outcome], 'getOrLoad', outcome, startedMs, namespace);
  }

  /** Records a loader run that started at `startedMs`. */
  load(ok: boolean, startedMs: number, namespace: string): void {
    record(ok ? this.#load : this.#loadError, 'load', ok ? 'ok' : 'error', startedMs, namespace);
  }

  summaries(): LatencySummaries {
    const g = this.#getOrLoad;
    return {
      getOrLoad: {
        hit: summarize(g.hit),
        miss: summarize(g.miss),
        collapsed: summarize(g.collapsed),
        error: summarize(g.error),
      },
      load: summarize(this.#load),
      loadError: summarize(this.#loadError),
    };
  }
}

function record(
  histogram: RecordableHistogram,
  operation: 'getOrLoad' | 'load',
  outcome: string,
  startedMs: number,
  namespace: string,
): void {
  const elapsedMs = performance.now() - startedMs;
  // The histogram takes whole nanoseconds ≥ 1.
  histogram.record(Math.max(1, Math.round(elapsedMs * NS_PER_MS)));
  if (latencyChannel.hasSubscribers) {
    latencyChannel.publish({ operation, outcome, namespace, seconds: elapsedMs / 1000 });
  }
}
