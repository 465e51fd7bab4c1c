/**
 * What an application instance reports every second (cumulative counters, plus the last window's
 * latency and most-read keys), and the point the monitor computes from two reports: rates, hit rates
 * per tier and percentiles — the figures the dashboard plots and `tiercache stats` prints.
 */

/** A read or write answered for the API: a status, and the menu or the reason. */
export type ApiResult<T> =
  | { readonly status: 200; readonly body: T }
  | { readonly status: 404 | 503; readonly error: string };

/** One instance's report. Counters are totals since it started. */
export interface InstanceSample {
  readonly at: number;
  readonly requests: number;
  readonly errors: number;
  /** Load-generator requests skipped because too many were in flight (the service could not keep up). */
  readonly shed: number;
  readonly dbReads: number;
  readonly dbWrites: number;
  readonly hits: number;
  readonly misses: number;
  readonly l1Hits: number;
  readonly l1Misses: number;
  readonly l2Hits: number;
  readonly l2Misses: number;
  readonly l2Errors: number;
  readonly loads: number;
  readonly collapsed: number;
  readonly staleServed: number;
  readonly refreshes: number;
  readonly cold: number;
  readonly expired: number;
  readonly evicted: number;
  readonly invalidated: number;
  readonly l1Entries: number;
  /** Requests in the window since the previous report, and their latency percentiles in ms. */
  readonly window: { readonly requests: number; readonly p50Ms: number; readonly p99Ms: number };
  /** The hot menus by `cache.hotKeys()`, `[id, estimated reads/s]`, hottest first. */
  readonly topKeys: readonly (readonly [number, number])[];
  /** The message of the last failed request, if any failed. */
  readonly lastError: string | undefined;
  /** The cache's own health verdict, when its sliding-window hit rate is low. */
  readonly diagnosis: { readonly cause: string; readonly message: string } | undefined;
  /** The live miss-ratio curve: the hit rate with `scale` × the L1's memory (`stats().health.curve`). */
  readonly curve: readonly { readonly scale: number; readonly hitRate: number }[];
  /** This instance's change stream (`--change-stream`): whether it consumes, its lag, what it applied. */
  readonly changeStream?: {
    readonly active: boolean;
    readonly lagBytes: number | undefined;
    readonly transactions: number;
  };
}

/** Counters summed across instances and differenced between reports. */
export const SUMMED = [
  'requests',
  'errors',
  'shed',
  'dbReads',
  'dbWrites',
  'hits',
  'misses',
  'l1Hits',
  'l1Misses',
  'l2Hits',
  'l2Misses',
  'l2Errors',
  'loads',
  'collapsed',
  'staleServed',
  'refreshes',
  'cold',
  'expired',
  'evicted',
  'invalidated',
  'l1Entries',
] as const satisfies readonly (keyof InstanceSample)[];

/** A counter name of {@link SUMMED}. */
export type Summed = (typeof SUMMED)[number];

/** One point on the dashboard: per-second rates over the last interval, and state. */
export interface Point {
  /** Seconds since the demo started. */
  readonly t: number;
  /** Per-second rates of every summed counter over the interval. */
  readonly rates: Readonly<Record<Summed, number>>;
  /** Totals since the start. */
  readonly totals: Readonly<Record<Summed, number>>;
  /** Hit rates over the interval, 0–1; `null` when the tier saw no reads (or does not exist). */
  readonly hitRate: number | null;
  readonly l1HitRate: number | null;
  readonly l2HitRate: number | null;
  /** Request-weighted p50 and worst p99 of the instances, in ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Hot menus, `[id, estimated reads/s]` summed over the instances' detectors, hottest first. */
  readonly topKeys: readonly (readonly [number, number])[];
  readonly diagnosis: string | undefined;
  /** "Hit rate if you gave it N× memory": the instances' curves, averaged by scale. */
  readonly curve: readonly { readonly scale: number; readonly hitRate: number }[];
  /** The last failed request's message, from any instance. */
  readonly lastError: string | undefined;
  /** The scenario running, if any. */
  readonly scenario: string | undefined;
  /** The change stream, in words (`--change-stream`): who consumes, its lag, what it applied. */
  readonly changeStream: string | undefined;
}

/** A point from the previous and current reports of every instance. */
export function toPoint(
  previous: readonly InstanceSample[],
  current: readonly InstanceSample[],
  t: number,
  scenario: string | undefined,
): Point {
  const sum = (samples: readonly InstanceSample[], name: Summed) => samples.reduce((n, s) => n + s[name], 0);
  const seconds = Math.max(
    0.001,
    (Math.max(...current.map((s) => s.at)) - Math.max(...previous.map((s) => s.at))) / 1000,
  );
  const rates = {} as Record<Summed, number>;
  const totals = {} as Record<Summed, number>;
  const delta = {} as Record<Summed, number>;
  for (const name of SUMMED) {
    totals[name] = sum(current, name);
    delta[name] = totals[name] - sum(previous, name);
    rates[name] = delta[name] / seconds;
  }
  const share = (hits: number, misses: number) => (hits + misses === 0 ? null : hits / (hits + misses));
  const requests = current.reduce((n, s) => n + s.window.requests, 0);
  const keys = new Map<number, number>();
  for (const sample of current) for (const [id, reads] of sample.topKeys) keys.set(id, (keys.get(id) ?? 0) + reads);
  const diagnoses = current.flatMap((s) => (s.diagnosis === undefined ? [] : [s.diagnosis.message]));
  return {
    t,
    rates,
    totals,
    hitRate: share(delta.hits, delta.misses),
    l1HitRate: share(delta.l1Hits, delta.l1Misses),
    l2HitRate: share(delta.l2Hits, delta.l2Misses),
    p50Ms: requests === 0 ? 0 : current.reduce((n, s) => n + s.window.p50Ms * s.window.requests, 0) / requests,
    p99Ms: Math.max(0, ...current.map((s) => s.window.p99Ms)),
    topKeys: [...keys].sort((a, b) => b[1] - a[1]).slice(0, 10),
    diagnosis: diagnoses[0],
    curve: averageCurves(current.map((s) => s.curve)),
    lastError: current.find((s) => s.lastError !== undefined)?.lastError,
    scenario,
    changeStream: describeChangeStream(current),
  };
}

/** "instance 2 of 3 consumes; lag 0 B; 41 transactions applied", or `undefined` without a stream. */
function describeChangeStream(current: readonly InstanceSample[]): string | undefined {
  const streams = current.map((sample) => sample.changeStream);
  if (streams.every((stream) => stream === undefined)) return undefined;
  const consumer = streams.findIndex((stream) => stream?.active === true);
  const applied = streams.reduce((n, stream) => n + (stream?.transactions ?? 0), 0);
  const lag = streams.find((stream) => stream?.lagBytes !== undefined)?.lagBytes;
  const who = consumer < 0 ? 'no instance consumes yet' : `instance ${consumer + 1} of ${current.length} consumes`;
  return `${who}; lag ${lag === undefined ? '–' : `${lag.toLocaleString('en-US')} B`}; ${applied.toLocaleString('en-US')} transactions applied`;
}

/** The instances' curves averaged point by point (only scales every instance reports). */
function averageCurves(
  curves: readonly (readonly { readonly scale: number; readonly hitRate: number }[])[],
): { scale: number; hitRate: number }[] {
  const first = curves[0] ?? [];
  return first.flatMap(({ scale }) => {
    const rates = curves.map((curve) => curve.find((point) => point.scale === scale)?.hitRate);
    if (rates.some((rate) => rate === undefined)) return [];
    return [{ scale, hitRate: (rates as number[]).reduce((a, b) => a + b, 0) / rates.length }];
  });
}
