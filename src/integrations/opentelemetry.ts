/**
 * OpenTelemetry for a cache (`tiercache/opentelemetry`), through `@opentelemetry/api` (an optional peer):
 * whatever SDK and exporters the application set up receive tiercache's metrics and spans.
 *
 * ```ts
 * const telemetry = instrumentOpenTelemetry(cache); // the global meter and tracer providers
 * ```
 *
 * Metrics (instrument names under `tiercache.`; attributes `tiercache.namespace`, `tiercache.tier`,
 * `tiercache.miss.cause`, `tiercache.outcome`):
 *
 * | instrument | kind | unit | attributes |
 * |---|---|---|---|
 * | `tiercache.hits` | observable counter | `{read}` | namespace, tier (l1, l2) |
 * | `tiercache.misses` | observable counter | `{read}` | namespace, cause (cold, expired, evicted, invalidated) |
 * | `tiercache.loads` | observable counter | `{load}` | namespace |
 * | `tiercache.load.errors` | observable counter | `{load}` | namespace |
 * | `tiercache.collapsed` | observable counter | `{call}` | namespace |
 * | `tiercache.stale_served` | observable counter | `{call}` | namespace |
 * | `tiercache.entries` | observable gauge | `{entry}` | tier (l1) |
 * | `tiercache.loads.in_flight` | observable gauge | `{load}` | — |
 * | `tiercache.hit_rate` | observable gauge | `1` | — (the health window's) |
 * | `tiercache.get_or_load.duration` | histogram | `s` | namespace, outcome (hit — sampled —, miss, collapsed, error) |
 * | `tiercache.load.duration` | histogram | `s` | namespace, outcome (ok, error) |
 *
 * The counters are read from the cache when the SDK collects (nothing runs per request for them); the
 * histograms are fed from the `tiercache:latency` diagnostics channel, which costs nothing until someone
 * subscribes — as do the spans, from the `tracing:tiercache:*` channels: `tiercache getOrLoad`,
 * `tiercache load` (a child of the `getOrLoad` that started it) and `tiercache set`, kind INTERNAL, with
 * the key, the namespace and (for `getOrLoad`) the outcome; a rejected call records its error and sets
 * the status to ERROR. Spans start in the caller's active context, so they nest under its request span.
 *
 * The latency channel and the tracing channels are process-wide: with several caches in one process,
 * instrument one of them (the spans and histograms cover all; the counters are the instrumented cache's).
 */
import diagnostics from 'node:diagnostics_channel';
import type * as OpenTelemetry from '@opentelemetry/api';
import type { Cache } from '../cache/api.js';
import { NAMESPACE_COUNTERS } from '../cache.js';
import { CHANNELS, type LatencyMessage, type TraceContext } from '../metrics/channels.js';
import type { Counters } from '../metrics/stats.js';
import { peer } from '../peer.js';

/** Options of {@link instrumentOpenTelemetry}. */
export interface OpenTelemetryOptions {
  /** Where the metrics go. Default: the global meter provider (`metrics.getMeterProvider()`). */
  readonly meterProvider?: OpenTelemetry.MeterProvider;
  /** Where the spans go. Default: the global tracer provider. `false`: no spans. */
  readonly tracerProvider?: OpenTelemetry.TracerProvider | false;
  /** Whether spans carry the key (`tiercache.key`). Default: `true`; turn off if keys hold personal data. */
  readonly recordKeys?: boolean;
}

/** An instrumentation; `stop()` removes the callbacks and stops listening. */
export interface OpenTelemetryInstrumentation {
  stop(): void;
}

/** The instrumentation scope's name. */
const SCOPE = 'tiercache';
const NAMESPACE = 'tiercache.namespace';

/**
 * Sends a cache's metrics and spans to OpenTelemetry.
 * @throws ConfigError when `@opentelemetry/api` is not installed.
 */
export function instrumentOpenTelemetry(
  cache: Cache,
  options: OpenTelemetryOptions = {},
): OpenTelemetryInstrumentation {
  const api = peer<typeof OpenTelemetry>('@opentelemetry/api', 'instrumentOpenTelemetry');
  const meter = (options.meterProvider ?? api.metrics.getMeterProvider()).getMeter(SCOPE);
  const stopMetrics = observeCounters(cache, meter, api);
  const stopLatency = recordLatency(meter);
  const stopSpans =
    options.tracerProvider === false
      ? () => {}
      : traceCalls((options.tracerProvider ?? api.trace.getTracerProvider()).getTracer(SCOPE), api, options);
  return {
    stop() {
      stopMetrics();
      stopLatency();
      stopSpans();
    },
  };
}

/** The observable counters and gauges, read from the cache at collection. @returns how to stop. */
function observeCounters(cache: Cache, meter: OpenTelemetry.Meter, api: typeof OpenTelemetry): () => void {
  const perNamespace = (): ReadonlyMap<string, Readonly<Counters>> => {
    const list = (cache as unknown as { [NAMESPACE_COUNTERS]?: () => ReadonlyMap<string, Readonly<Counters>> })[
      NAMESPACE_COUNTERS
    ];
    return list === undefined ? new Map() : list.call(cache);
  };
  const counter = (name: string, description: string, unit: string) =>
    meter.createObservableCounter(name, { description, unit, valueType: api.ValueType.INT });
  const gauge = (name: string, description: string, unit: string) =>
    meter.createObservableGauge(name, { description, unit });
  const hits = counter('tiercache.hits', 'Reads answered by a cache tier.', '{read}');
  const misses = counter('tiercache.misses', 'Reads no tier answered, by cause.', '{read}');
  const loads = counter('tiercache.loads', 'Loader calls started.', '{load}');
  const loadErrors = counter('tiercache.load.errors', 'Loader calls that threw.', '{load}');
  const collapsed = counter('tiercache.collapsed', 'Calls that joined a load already in flight.', '{call}');
  const staleServed = counter('tiercache.stale_served', 'Callers answered with a stale value (fail-safe).', '{call}');
  const entries = gauge('tiercache.entries', 'Entries held in the memory tier.', '{entry}');
  const inFlight = gauge('tiercache.loads.in_flight', 'Loads running now.', '{load}');
  const hitRate = gauge('tiercache.hit_rate', 'Hit rate over the health sliding window.', '1');
  const observables = [hits, misses, loads, loadErrors, collapsed, staleServed, entries, inFlight, hitRate];

  // One batch callback: one stats() and one walk of the namespaces per collection.
  const collect: OpenTelemetry.BatchObservableCallback = (result) => {
    for (const [namespace, c] of perNamespace()) {
      const at = { [NAMESPACE]: namespace };
      result.observe(hits, c.l1Hits, { ...at, 'tiercache.tier': 'l1' });
      result.observe(hits, c.l2Hits, { ...at, 'tiercache.tier': 'l2' });
      const causes = {
        cold: c.missCold,
        expired: c.missExpired,
        evicted: c.missEvicted,
        invalidated: c.missInvalidated,
      };
      for (const [cause, count] of Object.entries(causes)) {
        result.observe(misses, count, { ...at, 'tiercache.miss.cause': cause });
      }
      result.observe(loads, c.loads, at);
      result.observe(loadErrors, c.loadErrors, at);
      result.observe(collapsed, c.collapsed, at);
      result.observe(staleServed, c.staleServed, at);
    }
    const stats = cache.stats();
    if (stats.l1 !== undefined) result.observe(entries, stats.l1.entries, { 'tiercache.tier': 'l1' });
    result.observe(inFlight, stats.inFlight);
    if (stats.health !== undefined) result.observe(hitRate, stats.health.hitRate);
  };
  meter.addBatchObservableCallback(collect, observables);
  return () => meter.removeBatchObservableCallback(collect, observables);
}

/** The two latency histograms, fed from the latency channel. @returns how to stop. */
function recordLatency(meter: OpenTelemetry.Meter): () => void {
  const histogram = (name: string, description: string) => meter.createHistogram(name, { description, unit: 's' });
  const getOrLoad = histogram('tiercache.get_or_load.duration', 'getOrLoad latency by outcome (hits are sampled).');
  const load = histogram('tiercache.load.duration', 'Loader run latency by outcome.');
  const onLatency = (message: unknown) => {
    const { operation, outcome, namespace, seconds } = message as LatencyMessage;
    (operation === 'load' ? load : getOrLoad).record(seconds, { [NAMESPACE]: namespace, 'tiercache.outcome': outcome });
  };
  diagnostics.subscribe(CHANNELS.latency, onLatency);
  return () => diagnostics.unsubscribe(CHANNELS.latency, onLatency);
}

type Traced = TraceContext & { error?: unknown };

/** Spans from the tracing channels. @returns how to stop. */
function traceCalls(
  tracer: OpenTelemetry.Tracer,
  api: typeof OpenTelemetry,
  options: OpenTelemetryOptions,
): () => void {
  const recordKeys = options.recordKeys ?? true;
  const spans = new WeakMap<object, OpenTelemetry.Span>();
  // The getOrLoad spans in flight by namespace and key, so a load finds the call that started it: a
  // load runs in the background of its flight, where no active context leads back to that call.
  const calls = new Map<string, OpenTelemetry.Span>();
  const callKey = (context: TraceContext) => `${context.namespace}\u0000${context.key}`;

  const handlers = (operation: 'getOrLoad' | 'load' | 'set') => ({
    start(message: unknown) {
      const context = message as Traced;
      const attributes: OpenTelemetry.Attributes = { [NAMESPACE]: context.namespace };
      if (recordKeys) attributes['tiercache.key'] = context.key;
      const caller = operation === 'load' ? calls.get(callKey(context)) : undefined;
      const parent = caller === undefined ? api.context.active() : api.trace.setSpan(api.context.active(), caller);
      const span = tracer.startSpan(`tiercache ${operation}`, { kind: api.SpanKind.INTERNAL, attributes }, parent);
      spans.set(context, span);
      if (operation === 'getOrLoad') calls.set(callKey(context), span);
    },
    error(message: unknown) {
      const context = message as Traced;
      const span = spans.get(context);
      if (span === undefined) return;
      const error = context.error;
      span.recordException(error instanceof Error ? error : String(error));
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: error instanceof Error ? error.message : undefined });
    },
    asyncEnd(message: unknown) {
      finish(message as Traced);
    },
    end(message: unknown) {
      // A call that threw instead of returning a promise ends here: no asyncEnd follows.
      if ((message as Traced).error !== undefined) finish(message as Traced);
    },
    asyncStart() {},
  });
  const finish = (context: Traced) => {
    const span = spans.get(context);
    if (span === undefined) return;
    const outcome = context.error !== undefined ? 'error' : context.outcome;
    if (outcome !== undefined) span.setAttribute('tiercache.outcome', outcome);
    span.end();
    spans.delete(context);
    if (calls.get(callKey(context)) === span) calls.delete(callKey(context));
  };
  const channels = [
    [diagnostics.tracingChannel(CHANNELS.getOrLoad), handlers('getOrLoad')],
    [diagnostics.tracingChannel(CHANNELS.load), handlers('load')],
    [diagnostics.tracingChannel(CHANNELS.set), handlers('set')],
  ] as const;
  for (const [channel, subscriber] of channels) channel.subscribe(subscriber);
  return () => {
    for (const [channel, subscriber] of channels) channel.unsubscribe(subscriber);
  };
}
