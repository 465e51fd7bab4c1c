/**
 * Prometheus export through prom-client. Counters and gauges are read from the cache at scrape time
 * (nothing runs per request for them); the two latency histograms are fed from the
 * `tiercache:latency` diagnostics channel, which costs nothing until this exporter subscribes.
 *
 * Metric names (all prefixed, `tiercache_` by default):
 *
 * | name | type | labels |
 * |---|---|---|
 * | `hits_total` | counter | namespace, tier (l1, l2) |
 * | `misses_total` | counter | namespace, tier, cause (cold, expired, evicted, invalidated) |
 * | `loads_total` | counter | namespace |
 * | `load_errors_total` | counter | namespace |
 * | `collapsed_total` | counter | namespace |
 * | `refused_too_large_total` | counter | namespace |
 * | `stale_sets_refused_total` | counter | namespace |
 * | `tier_errors_total` | counter | namespace, tier (l2) |
 * | `lock_waits_total` | counter | namespace |
 * | `lock_timeouts_total` | counter | namespace |
 * | `bus_messages_total` | counter | — (invalidations received) |
 * | `bus_gaps_total` | counter | — |
 * | `evictions_total` | counter | tier |
 * | `expirations_total` | counter | tier |
 * | `entries` | gauge | tier |
 * | `bytes` | gauge | tier |
 * | `loads_in_flight` | gauge | — |
 * | `window_hit_rate` | gauge | — |
 * | `predicted_hit_rate` | gauge | scale (0.25 … 16: × the L1's memory) |
 * | `change_stream_lag_bytes`, `change_stream_active` | gauge | slot (with `changeStreams`) |
 * | `change_stream_transactions_total` | counter | slot (with `changeStreams`) |
 * | `get_or_load_duration_seconds` | histogram | namespace, outcome (hit — sampled —, miss, collapsed, error) |
 * | `load_duration_seconds` | histogram | namespace, outcome (ok, error) |
 */
import diagnostics from 'node:diagnostics_channel';
import type * as PromClient from 'prom-client';
import type { Registry } from 'prom-client';

/**
 * A prom-client `Registry`, as far as this module uses it: named structurally so the published types do
 * not require prom-client (an optional peer) to be installed.
 */
export interface MetricRegistry {
  removeSingleMetric(name: string): void;
}

import type { Cache } from '../cache/api.js';
import { NAMESPACE_COUNTERS } from '../cache.js';
import type { ChangeStreamStats } from '../change-stream/change-stream.js';
import { peer } from '../peer.js';
import { CHANNELS, type LatencyMessage } from './channels.js';
import type { CacheStats, Counters, MemoryTierStats } from './stats.js';

/** Options of {@link registerPrometheus}. */
export interface PrometheusOptions {
  /** The registry to add the metrics to. Default: prom-client's global registry. */
  registry?: MetricRegistry;
  /** Prefix of every metric name. Default: `'tiercache_'`. Give each cache in one registry its own. */
  prefix?: string;
  /** Histogram buckets, in seconds. Default: 50 µs to 2.5 s. */
  buckets?: number[];
  /**
   * Change streams (`tiercache/postgres`) whose figures to export too: `change_stream_lag_bytes`,
   * `change_stream_active` and `change_stream_transactions_total`, labelled by slot.
   */
  changeStreams?: readonly { stats(): ChangeStreamStats }[];
}

/** A registration; `unregister()` removes the metrics and stops listening. */
export interface PrometheusRegistration {
  unregister(): void;
}

const DEFAULT_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

type CounterName = keyof Counters;
/** One series of a scraped metric: its labels and its value. */
type Sample = readonly [labels: Record<string, string>, value: number];

/**
 * Registers a cache's metrics with a prom-client registry.
 * @example
 * import { Registry } from 'prom-client';
 * const registry = new Registry();
 * registerPrometheus(cache, { registry });
 * app.get('/metrics', async () => registry.metrics());
 */
export function registerPrometheus(cache: Cache, options: PrometheusOptions = {}): PrometheusRegistration {
  // prom-client is an optional peer, loaded here: a cache that exports nothing does not need it.
  const {
    Counter,
    Gauge,
    Histogram,
    register: defaultRegistry,
  } = peer<typeof PromClient>('prom-client', 'registerPrometheus');
  const registry = (options.registry ?? defaultRegistry) as Registry;
  const prefix = options.prefix ?? 'tiercache_';
  const buckets = options.buckets ?? DEFAULT_BUCKETS;
  const perNamespace = (): ReadonlyMap<string, Readonly<Counters>> => {
    const list = (cache as unknown as { [NAMESPACE_COUNTERS]?: () => ReadonlyMap<string, Readonly<Counters>> })[
      NAMESPACE_COUNTERS
    ];
    return list === undefined ? new Map() : list.call(cache);
  };

  // Every counter and gauge is read from the cache at scrape time: `samples` lists its series.
  const scraped = <M extends 'counter' | 'gauge'>(
    type: M,
    name: string,
    help: string,
    labelNames: string[],
    samples: () => Iterable<Sample>,
  ) => {
    const config = { name: prefix + name, help, labelNames, registers: [registry] };
    if (type === 'gauge') {
      return new Gauge({
        ...config,
        collect() {
          this.reset();
          for (const [labels, value] of samples()) this.set(labels, value);
        },
      });
    }
    return new Counter({
      ...config,
      collect() {
        this.reset();
        for (const [labels, value] of samples()) this.inc(labels, value);
      },
    });
  };
  function* byNamespace(read: (counters: Readonly<Counters>) => [Record<string, string>, number][]): Iterable<Sample> {
    for (const [namespace, counters] of perNamespace()) {
      for (const [labels, value] of read(counters)) yield [{ namespace, ...labels }, value];
    }
  }
  const namespaceCounter = (name: string, help: string, field: CounterName) =>
    scraped('counter', name, help, ['namespace'], () => byNamespace((c) => [[{}, c[field]]]));
  const l1Figure = (read: (l1: MemoryTierStats) => number) => (): Iterable<Sample> => {
    const l1 = cache.stats().l1;
    return l1 === undefined ? [] : [[{ tier: 'l1' }, read(l1)]];
  };
  const cacheWide = (read: (stats: CacheStats) => number) => (): Iterable<Sample> => [[{}, read(cache.stats())]];

  const metrics = [
    scraped('counter', 'hits_total', 'Reads answered by a cache tier.', ['namespace', 'tier'], () =>
      byNamespace((c) => [
        [{ tier: 'l1' }, c.l1Hits],
        [{ tier: 'l2' }, c.l2Hits],
      ]),
    ),
    scraped('counter', 'misses_total', 'Reads no tier answered, by cause.', ['namespace', 'tier', 'cause'], () =>
      byNamespace((c) => [
        [{ tier: 'l1', cause: 'cold' }, c.missCold],
        [{ tier: 'l1', cause: 'expired' }, c.missExpired],
        [{ tier: 'l1', cause: 'evicted' }, c.missEvicted],
        [{ tier: 'l1', cause: 'invalidated' }, c.missInvalidated],
      ]),
    ),
    namespaceCounter('loads_total', 'Loader calls started.', 'loads'),
    namespaceCounter('load_errors_total', 'Loader calls that threw.', 'loadErrors'),
    namespaceCounter('collapsed_total', 'Calls that joined a load already in flight.', 'collapsed'),
    namespaceCounter('refused_too_large_total', 'Values not cached: over maxEntryBytes.', 'refusedTooLarge'),
    scraped(
      'counter',
      'stale_sets_refused_total',
      'Loaded values not stored because a write overtook them: in this instance, or by the shared version.',
      ['namespace', 'by'],
      () =>
        byNamespace((c) => [
          [{ by: 'local-write' }, c.superseded],
          [{ by: 'version' }, c.staleLoadsDropped],
        ]),
    ),
    namespaceCounter('write_conflicts_total', 'Write-throughs raced by another write: invalidated.', 'writeConflicts'),
    namespaceCounter('stale_served_total', 'Callers answered with a stale value (fail-safe).', 'staleServed'),
    namespaceCounter('load_timeouts_total', 'Loads past their soft or hard timeout.', 'loadTimeouts'),
    namespaceCounter('overloaded_total', 'Loads refused by maxConcurrentLoads.', 'overloaded'),
    namespaceCounter('refreshes_total', 'Background refreshes started (early expiration).', 'refreshes'),
    namespaceCounter('refresh_errors_total', 'Background loads that failed; no caller saw them.', 'refreshErrors'),
    scraped(
      'counter',
      'tier_errors_total',
      'Shared-tier calls that failed and were absorbed.',
      ['namespace', 'tier'],
      () => byNamespace((c) => [[{ tier: 'l2' }, c.l2Errors]]),
    ),
    namespaceCounter('lock_waits_total', 'Loads that waited for another instance holding the lock.', 'lockWaits'),
    namespaceCounter('lock_timeouts_total', 'Lock waits that ran out and loaded locally.', 'lockTimeouts'),
    scraped(
      'counter',
      'bus_messages_total',
      'Invalidations received from other instances.',
      [],
      cacheWide((s) => s.bus?.received ?? 0),
    ),
    scraped(
      'counter',
      'bus_gaps_total',
      'Bus gaps (lost messages or reconnects); each dropped the L1.',
      [],
      cacheWide((s) => s.bus?.gaps ?? 0),
    ),
    scraped(
      'counter',
      'evictions_total',
      'Entries evicted to make room.',
      ['tier'],
      l1Figure((l1) => l1.evictions),
    ),
    scraped(
      'counter',
      'expirations_total',
      'Entries removed at expiry.',
      ['tier'],
      l1Figure((l1) => l1.expirations),
    ),
    scraped(
      'gauge',
      'entries',
      'Entries held.',
      ['tier'],
      l1Figure((l1) => l1.entries),
    ),
    scraped(
      'gauge',
      'bytes',
      'Estimated bytes held.',
      ['tier'],
      l1Figure((l1) => l1.bytes),
    ),
    scraped(
      'gauge',
      'loads_in_flight',
      'Loads running now.',
      [],
      cacheWide((stats) => stats.inFlight),
    ),
    scraped(
      'gauge',
      'window_hit_rate',
      'Hit rate over the health sliding window.',
      [],
      cacheWide((stats) => stats.health?.hitRate ?? 0),
    ),
    scraped(
      'gauge',
      'predicted_hit_rate',
      'Hit rate the cache would have with `scale` × its L1 memory, from the live miss-ratio curve.',
      ['scale'],
      () => (cache.stats().health?.curve ?? []).map((point) => [{ scale: String(point.scale) }, point.hitRate]),
    ),
  ];
  const streams = options.changeStreams ?? [];
  const bySlot = (read: (stats: ChangeStreamStats) => number | undefined) => (): Iterable<Sample> =>
    streams.flatMap((stream) => {
      const stats = stream.stats();
      const value = read(stats);
      return value === undefined ? [] : [[{ slot: stats.slot }, value] as const];
    });
  if (streams.length > 0) {
    metrics.push(
      scraped(
        'gauge',
        'change_stream_lag_bytes',
        'WAL the replication slot keeps for the change stream (a stuck consumer makes it grow).',
        ['slot'],
        bySlot((stats) => stats.lagBytes),
      ),
      scraped(
        'gauge',
        'change_stream_active',
        'Whether this instance streams the slot (1) or waits as a follower (0).',
        ['slot'],
        bySlot((stats) => (stats.active ? 1 : 0)),
      ),
      scraped(
        'counter',
        'change_stream_transactions_total',
        'Committed transactions applied by this instance.',
        ['slot'],
        bySlot((stats) => stats.transactions),
      ),
    );
  }
  const getOrLoadDuration = new Histogram({
    name: `${prefix}get_or_load_duration_seconds`,
    help: 'getOrLoad latency by outcome (hits are sampled).',
    labelNames: ['namespace', 'outcome'],
    buckets,
    registers: [registry],
  });
  const loadDuration = new Histogram({
    name: `${prefix}load_duration_seconds`,
    help: 'Loader run latency by outcome.',
    labelNames: ['namespace', 'outcome'],
    buckets,
    registers: [registry],
  });
  const onLatency = (message: unknown) => {
    const { operation, outcome, namespace, seconds } = message as LatencyMessage;
    (operation === 'load' ? loadDuration : getOrLoadDuration).observe({ namespace, outcome }, seconds);
  };
  diagnostics.subscribe(CHANNELS.latency, onLatency);

  return {
    unregister() {
      diagnostics.unsubscribe(CHANNELS.latency, onLatency);
      for (const metric of [...metrics, getOrLoadDuration, loadDuration]) {
        registry.removeSingleMetric((metric as unknown as { name: string }).name);
      }
    },
  };
}
