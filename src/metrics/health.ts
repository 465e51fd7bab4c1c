/**
 * Hit-rate health: a sliding-window hit rate, and when it falls below the threshold, a diagnosis of
 * why, computed from the window's miss causes. The seed's rule of thumb — "below 90% means your TTLs
 * are too short, your key space is too large, or you're caching the wrong data" — made concrete:
 *
 * - **TTL too short**: most misses re-read keys that had *expired*. The mean time from expiry to
 *   re-read gives the re-read interval the TTL should cover.
 * - **Capacity too small**: most misses re-read keys that were *evicted*. The removal log's shadow
 *   estimate gives the hit rate at 2× and 4× the capacity.
 * - **Caching the wrong data**: most misses are *cold* (first reads) and most entries leave the cache
 *   without a second read: the keys are read once, and no TTL or capacity fixes that.
 * - **Warming up**: most misses are cold but entries are not leaving unread — the cache is still
 *   filling (a cold start), which no setting needs to fix.
 * - **Invalidation churn**: most misses follow a delete or clear of the key.
 *
 * The window is `BUCKETS` buckets; at each bucket boundary the cumulative counters are snapshotted,
 * and the window's figures are the difference between now and the oldest snapshot. Nothing is counted
 * twice and nothing runs on the hit path: the monitor advances on misses and on `stats()`.
 *
 * Every namespace keeps its own figures (its reads, its share of the L1's removals and of the curve's
 * samples), and each snapshot holds them all, so a namespace's report is the same computation over the
 * figures summed under its path: its own hit rate, causes, curve and diagnosis.
 */
import { CURVE_SCALES, CurveCounts, type CurveTotals, predictCurve } from './miss-ratio-curve.js';
import { addCounters, Counters, type MissCauses, ratio, subtractCounters, totalMisses } from './stats.js';

/** Buckets in the sliding window: the window moves in steps of a sixth. */
const BUCKETS = 6;
/** A cause must explain at least this share of the misses to be named. */
const DOMINANT_SHARE = 0.3;
/** The curve "rises" when the most memory simulated would add at least this much hit rate. */
const CURVE_RISE = 0.05;
/** Cold misses point at the data only if at least this share of entries left unread. */
const UNREAD_SHARE = 0.5;

/** One namespace's cumulative figures, as the monitor reads them at each step (copies). */
export interface NamespaceTotals {
  readonly segments: readonly string[];
  /** Its reads, misses by cause, and L1 removals (`l1Removed`, `l1RemovedUnread`). */
  readonly counters: Counters;
  /** Its sampled keys' hits in the miniature simulations (`miss-ratio-curve.ts`), since `curve.epoch`. */
  readonly curve: CurveCounts;
}

/**
 * Figures summed over a namespace path and everything nested in it (`[]`: the whole cache); the curve's
 * only over groups counting in `curveEpoch` (the others' counts belong to simulations since replaced).
 */
export function sumUnder(
  entries: Iterable<NamespaceTotals>,
  segments: readonly string[],
  curveEpoch = 0,
): { readonly counters: Counters; readonly curve: CurveCounts } {
  const counters = new Counters();
  const curve = new CurveCounts();
  for (const entry of entries) {
    if (segments.every((segment, i) => entry.segments[i] === segment)) {
      addCounters(counters, entry.counters);
      if (entry.curve.epoch === curveEpoch) curve.add(entry.curve);
    }
  }
  return { counters, curve };
}

/** Health settings, resolved. */
export interface HealthSettings {
  /** Warn below this hit rate. */
  readonly threshold: number;
  /** Length of the sliding window, in ms. */
  readonly windowMs: number;
  /** No verdict on fewer reads than this in the window. */
  readonly minRequests: number;
  /** The cache's default TTL, in ms, for the TTL diagnosis. */
  readonly ttlMs: number;
  /** Whether the miss-ratio curve runs (without it, the totals' curve figures stay at zero). */
  readonly curve: boolean;
}

/** The likely reason for a low hit rate. */
export type DiagnosisCause =
  | 'ttl-too-short'
  | 'capacity-too-small'
  | 'wrong-data'
  | 'warming-up'
  | 'invalidation'
  | 'unclear';

/** Why the hit rate is low, and what to change. */
export interface Diagnosis {
  readonly cause: DiagnosisCause;
  /** One or two sentences for a human: the evidence and the remedy. */
  readonly message: string;
  /**
   * The hit rate with 2× and 4× the L1's memory (any cause): from the miss-ratio curve when it has
   * enough samples, else the removal log's shadow estimate.
   */
  readonly estimatedHitRate: { readonly at2x: number; readonly at4x: number };
  /** For `ttl-too-short`: the mean time between a key's expiry and its re-read, in ms. */
  readonly meanRereadAfterExpiryMs?: number;
}

/** The sliding-window verdict. */
export interface HealthReport {
  /** The window's length, in ms (shorter while the cache is younger than one window). */
  readonly windowMs: number;
  /** Reads in the window. */
  readonly requests: number;
  /** Hit rate in the window. */
  readonly hitRate: number;
  readonly threshold: number;
  /** False when the hit rate is below the threshold over at least `minRequests` reads. */
  readonly healthy: boolean;
  /** The window's misses by cause. */
  readonly missCauses: MissCauses;
  /**
   * The hit rate if the L1 had `scale` × its memory (0.25× … 16×), from the miss-ratio curve over the
   * window; the point at 1× is the hit rate now. Absent without enough samples (or with stats off), and
   * for a while after the simulations are resized under load (they refill first).
   */
  readonly curve?: readonly { readonly scale: number; readonly hitRate: number }[];
  /** Present when not healthy. */
  readonly diagnosis?: Diagnosis;
}

/** What the monitor reads at each step. */
export interface HealthTotals {
  readonly namespaces: readonly NamespaceTotals[];
  /** The curve's resizes so far (`MissRatioCurve.epoch`): curve counts are compared within one epoch. */
  readonly curveEpoch: number;
}

interface Snapshot {
  readonly at: number;
  readonly totals: HealthTotals;
}

/** Tracks the sliding window and produces reports, for the whole cache or any namespace in it. */
export class HealthMonitor {
  readonly #settings: HealthSettings;
  readonly #read: () => HealthTotals;
  readonly #bucketMs: number;
  #snapshots: Snapshot[];

  constructor(settings: HealthSettings, read: () => HealthTotals, now: number) {
    this.#settings = settings;
    this.#read = read;
    this.#bucketMs = settings.windowMs / BUCKETS;
    this.#snapshots = [{ at: now, totals: { namespaces: [], curveEpoch: 0 } }];
  }

  /**
   * Advances the window if a bucket boundary has passed. Cheap when none has (one comparison).
   * @returns an unhealthy report when one is due (at most once per bucket), else undefined.
   */
  tick(now: number): HealthReport | undefined {
    const last = this.#snapshots[this.#snapshots.length - 1] as Snapshot;
    if (now - last.at < this.#bucketMs) return undefined;
    const totals = this.#read();
    this.#snapshots.push({ at: now, totals });
    // Keep the newest snapshot at or before the window's start as the baseline.
    while (this.#snapshots.length > 2 && (this.#snapshots[1] as Snapshot).at <= now - this.#settings.windowMs) {
      this.#snapshots.shift();
    }
    const report = this.#evaluate(now, totals, []);
    return report.healthy ? undefined : report;
  }

  /** The report for the window ending now, over a namespace path and what is nested in it (`[]`: all). */
  report(now: number, segments: readonly string[] = []): HealthReport {
    return this.#evaluate(now, this.#read(), segments);
  }

  #evaluate(now: number, all: HealthTotals, segments: readonly string[]): HealthReport {
    const baseline = this.#snapshots[0] as Snapshot;
    const epoch = all.curveEpoch;
    const totals = sumUnder(all.namespaces, segments, epoch);
    const then = sumUnder(baseline.totals.namespaces, segments, epoch);
    const window = subtractCounters(totals.counters, then.counters);
    const removed = window.l1Removed;
    const removedUnread = window.l1RemovedUnread;
    const misses = totalMisses(window);
    const hits = window.l1Hits + window.l2Hits;
    const requests = hits + misses;
    const hitRate = ratio(hits, misses);
    const { threshold, minRequests, ttlMs } = this.#settings;
    const healthy = requests < minRequests || hitRate >= threshold;
    // A resize inside the window restarted the counts: the curve covers what came after it.
    const curveThen = baseline.totals.curveEpoch === epoch ? then.curve : new CurveCounts();
    const curve = this.#settings.curve ? curveOver(totals.curve, curveThen, window, hitRate) : undefined;
    return {
      windowMs: now - baseline.at,
      requests,
      hitRate,
      threshold,
      healthy,
      missCauses: {
        cold: window.missCold,
        expired: window.missExpired,
        evicted: window.missEvicted,
        invalidated: window.missInvalidated,
      },
      ...(curve === undefined ? {} : { curve }),
      ...(healthy ? {} : { diagnosis: diagnose(window, removed, removedUnread, ttlMs, curve) }),
    };
  }
}

/**
 * Names the dominant cause of a window's misses.
 * @param window Counter differences over the window.
 * @param removed Entries evicted or expired in the window; `removedUnread` of them never re-read.
 */
export function diagnose(
  window: Counters,
  removed: number,
  removedUnread: number,
  ttlMs: number,
  curve?: HealthReport['curve'],
): Diagnosis {
  const misses = totalMisses(window);
  const hits = window.l1Hits + window.l2Hits;
  const requests = hits + misses;
  const share = (n: number) => (misses === 0 ? 0 : n / misses);
  const unreadShare = removed === 0 ? 0 : removedUnread / removed;
  const hitRate = ratio(hits, misses);
  const at = (scale: number) => curve?.find((point) => point.scale === scale)?.hitRate;
  // The curve, when it has samples: it sees re-reads at any distance, where the removal log (3× the
  // capacity) takes a re-read from further back for a first read.
  const estimatedHitRate = {
    at2x: at(2) ?? ratio(hits + window.evictedWithin2x, requests - hits - window.evictedWithin2x),
    at4x: at(4) ?? ratio(hits + window.evictedWithin4x, requests - hits - window.evictedWithin4x),
  };
  const best = at(16);
  // More memory helps when the curve rises: the "first reads" are then re-reads from beyond the cache's
  // reach (a key space too large for the memory), not keys read once.
  const rises = curve !== undefined && (best ?? estimatedHitRate.at4x) - hitRate >= CURVE_RISE;
  const candidates: [DiagnosisCause, number][] = [
    ['ttl-too-short', share(window.missExpired)],
    ['capacity-too-small', share(window.missEvicted + (rises ? window.missCold : 0))],
    ['wrong-data', !rises && unreadShare >= UNREAD_SHARE ? share(window.missCold) : 0],
    // First reads while little leaves the cache unread: it is still filling, not misconfigured.
    ['warming-up', !rises && unreadShare < UNREAD_SHARE ? share(window.missCold) : 0],
    ['invalidation', share(window.missInvalidated)],
  ];
  candidates.sort((a, b) => b[1] - a[1]);
  const [cause, dominance] = candidates[0] as [DiagnosisCause, number];
  const memoryNote =
    `Estimated hit rate with 2× memory ${pct(estimatedHitRate.at2x)}, with 4× ${pct(estimatedHitRate.at4x)}` +
    (best === undefined ? '.' : `, with 16× ${pct(best)}.`);
  if (dominance < DOMINANT_SHARE) {
    return {
      cause: 'unclear',
      estimatedHitRate,
      message:
        `No single cause dominates the misses: cold ${pct(share(window.missCold))}, expired ${pct(share(window.missExpired))}, ` +
        `evicted ${pct(share(window.missEvicted))}, invalidated ${pct(share(window.missInvalidated))}. ${memoryNote}`,
    };
  }
  switch (cause) {
    case 'ttl-too-short': {
      const meanGap = window.expiredGapMs / Math.max(1, window.missExpired);
      return {
        cause,
        estimatedHitRate,
        meanRereadAfterExpiryMs: meanGap,
        message:
          // The gap is measured; the TTL the keys had is not (a per-call ttl may differ from the default).
          `${pct(dominance)} of misses re-read keys that had expired, on average ${seconds(meanGap)} after ` +
          `expiry: a TTL that much longer would have served them (the default TTL is ${seconds(ttlMs)}). ` +
          'Raise the TTL (with ttlJitter), or refresh hot keys ahead of expiry.',
      };
    }
    case 'capacity-too-small':
      return {
        cause,
        estimatedHitRate,
        message:
          (rises && window.missCold > window.missEvicted
            ? `${pct(dominance)} of misses re-read keys from beyond the cache's reach (evicted, or read too long ago ` +
              'to be remembered): the key space is too large for the memory'
            : `${pct(dominance)} of misses re-read keys evicted to make room: the key space is too large for the capacity`) +
          ` (hit rate now ${pct(hitRate)}). ${memoryNote} Raise l1.maxEntries / l1.maxBytes, or add a shared tier.`,
      };
    case 'wrong-data':
      return {
        cause,
        estimatedHitRate,
        message:
          `${pct(dominance)} of misses are first reads, and ${pct(unreadShare)} of entries left the cache without ` +
          'being read again: these keys are read once, so neither a longer TTL nor more memory helps them. Cache ' +
          `data that is read repeatedly, and read one-off data straight from the database. ${memoryNote}`,
      };
    case 'warming-up':
      return {
        cause,
        estimatedHitRate,
        message:
          `${pct(dominance)} of misses are first reads, and few entries leave the cache unread: it is still filling ` +
          '(a cold start, or a new working set). The hit rate should rise as repeat reads arrive; if it stays low ' +
          'once entries start to leave unread, these keys are read once.',
      };
    default:
      return {
        cause,
        estimatedHitRate,
        message:
          `${pct(dominance)} of misses follow a delete or clear of the key: writes invalidate entries faster than ` +
          'reads reuse them. Write the new value (set, or write-through) instead of deleting it.',
      };
  }
}

/**
 * The curve over a window: the L1's hit rate at each simulated scale, moved by the whole cache's hit rate
 * (an L2 hit is a hit at every L1 size). `undefined` without the curve or enough samples.
 */
function curveOver(now: CurveTotals, then: CurveTotals, window: Counters, hitRate: number): HealthReport['curve'] {
  const requests = window.l1Hits + window.l2Hits + totalMisses(window);
  const l1HitRate = requests === 0 ? 0 : window.l1Hits / requests;
  const predicted = predictCurve(now, then, l1HitRate);
  if (predicted.some((p) => p === undefined)) return undefined;
  return CURVE_SCALES.map((scale, i) => ({
    scale,
    hitRate: Math.min(1, Math.max(0, hitRate + (predicted[i] as number) - l1HitRate)),
  }));
}

function pct(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

function seconds(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(ms >= 10_000 ? 0 : 1)} s` : `${Math.round(ms)} ms`;
}
