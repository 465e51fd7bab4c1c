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
 * | `get_or_load_duration_seconds` | histogram | namespace, outcome (hit — sampled —, miss, collapsed, error) |
 * | `load_duration_seconds` | histogram | namespace, outcome (ok, error) |
 */
import diagnostics from 'node:diagnostics_channel';
import { Counter, register as defaultRegistry, Gauge, Histogram, type Registry } from 'prom-client';
import { type Cache, NAMESPACE_COUNTERS } from '../cache.js';
import { CHANNELS, type LatencyMessage } from './channels.js';
import type { Counters } from './stats.js';

/** Options of {@link registerPrometheus}. */
export interface PrometheusOptions {
  /** The registry to add the metrics to. Default: prom-client's global registry. */
  registry?: Registry;
  /** Prefix of every metric name. Default: `'tiercache_'`. Give each cache in one registry its own. */
  prefix?: string;
  /** Histogram buckets, in seconds. Default: 50 µs to 2.5 s. */
  buckets?: number[];
}

/** A registration; `unregister()` removes the metrics and stops listening. */
export interface PrometheusRegistration {
  unregister(): void;
}

const DEFAULT_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

type CounterName = keyof Counters;

/**
 * Registers a cache's metrics with a prom-client registry.
 * @example
 * import { Registry } from 'prom-client';
 * const registry = new Registry();
 * registerPrometheus(cache, { registry });
 * app.get('/metrics', async () => registry.metrics());
 */
export function registerPrometheus(cache: Cache, options: PrometheusOptions = {}): PrometheusRegistration {
  const registry = options.registry ?? defaultRegistry;
  const prefix = options.prefix ?? 'tiercache_';
  const buckets = options.buckets ?? DEFAULT_BUCKETS;
  const perNamespace = (): ReadonlyMap<string, Readonly<Counters>> => {
    const list = (cache as unknown as { [NAMESPACE_COUNTERS]?: () => ReadonlyMap<string, Readonly<Counters>> })[
      NAMESPACE_COUNTERS
    ];
    return list === undefined ? new Map() : list.call(cache);
  };

  const namespaceCounter = (name: string, help: string, field: CounterName) =>
    new Counter({
      name: prefix + name,
      help,
      labelNames: ['namespace'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [namespace, counters] of perNamespace()) this.inc({ namespace }, counters[field]);
      },
    });

  const metrics = [
    new Counter({
      name: `${prefix}hits_total`,
      help: 'Reads answered by a cache tier.',
      labelNames: ['namespace', 'tier'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [namespace, counters] of perNamespace()) {
          this.inc({ namespace, tier: 'l1' }, counters.l1Hits);
          this.inc({ namespace, tier: 'l2' }, counters.l2Hits);
        }
      },
    }),
    new Counter({
      name: `${prefix}misses_total`,
      help: 'Reads no tier answered, by cause.',
      labelNames: ['namespace', 'tier', 'cause'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [namespace, c] of perNamespace()) {
          this.inc({ namespace, tier: 'l1', cause: 'cold' }, c.missCold);
          this.inc({ namespace, tier: 'l1', cause: 'expired' }, c.missExpired);
          this.inc({ namespace, tier: 'l1', cause: 'evicted' }, c.missEvicted);
          this.inc({ namespace, tier: 'l1', cause: 'invalidated' }, c.missInvalidated);
        }
      },
    }),
    namespaceCounter('loads_total', 'Loader calls started.', 'loads'),
    namespaceCounter('load_errors_total', 'Loader calls that threw.', 'loadErrors'),
    namespaceCounter('collapsed_total', 'Calls that joined a load already in flight.', 'collapsed'),
    namespaceCounter('refused_too_large_total', 'Values not cached: over maxEntryBytes.', 'refusedTooLarge'),
    namespaceCounter('stale_sets_refused_total', 'Loaded values not stored: a write overtook them.', 'superseded'),
    new Counter({
      name: `${prefix}tier_errors_total`,
      help: 'Shared-tier calls that failed and were absorbed.',
      labelNames: ['namespace', 'tier'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [namespace, counters] of perNamespace()) this.inc({ namespace, tier: 'l2' }, counters.l2Errors);
      },
    }),
    namespaceCounter('lock_waits_total', 'Loads that waited for another instance holding the lock.', 'lockWaits'),
    namespaceCounter('lock_timeouts_total', 'Lock waits that ran out and loaded locally.', 'lockTimeouts'),
    new Counter({
      name: `${prefix}bus_messages_total`,
      help: 'Invalidations received from other instances.',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(cache.stats().bus?.received ?? 0);
      },
    }),
    new Counter({
      name: `${prefix}bus_gaps_total`,
      help: 'Bus gaps (lost messages or reconnects); each dropped the L1.',
      registers: [registry],
      collect() {
        this.reset();
        this.inc(cache.stats().bus?.gaps ?? 0);
      },
    }),
    tierCounter(
      registry,
      `${prefix}evictions_total`,
      'Entries evicted to make room.',
      () => cache.stats().l1?.evictions,
    ),
    tierCounter(
      registry,
      `${prefix}expirations_total`,
      'Entries removed at expiry.',
      () => cache.stats().l1?.expirations,
    ),
    tierGauge(registry, `${prefix}entries`, 'Entries held.', () => cache.stats().l1?.entries),
    tierGauge(registry, `${prefix}bytes`, 'Estimated bytes held.', () => cache.stats().l1?.bytes),
    new Gauge({
      name: `${prefix}loads_in_flight`,
      help: 'Loads running now.',
      registers: [registry],
      collect() {
        this.set(cache.stats().inFlight);
      },
    }),
    new Gauge({
      name: `${prefix}window_hit_rate`,
      help: 'Hit rate over the health sliding window.',
      registers: [registry],
      collect() {
        this.set(cache.stats().health?.hitRate ?? 0);
      },
    }),
  ];
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

function tierCounter(registry: Registry, name: string, help: string, read: () => number | undefined): Counter {
  return new Counter({
    name,
    help,
    labelNames: ['tier'],
    registers: [registry],
    collect() {
      this.reset();
      const value = read();
      if (value !== undefined) this.inc({ tier: 'l1' }, value);
    },
  });
}

function tierGauge(registry: Registry, name: string, help: string, read: () => number | undefined): Gauge {
  return new Gauge({
    name,
    help,
    labelNames: ['tier'],
    registers: [registry],
    collect() {
      const value = read();
      if (value !== undefined) this.set({ tier: 'l1' }, value);
    },
  });
}
