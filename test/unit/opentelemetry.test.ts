/**
 * `tiercache/opentelemetry` with the real OpenTelemetry SDK and its in-memory exporters: the counters
 * by namespace, tier and cause, the latency histograms, and the spans — a load as the child of the
 * getOrLoad that started it, errors recorded, nothing more once stopped.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createCache } from '../../src/index.js';
import { instrumentOpenTelemetry } from '../../src/integrations/opentelemetry.js';

function sdk() {
  const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  /** Each data point of metric `name` at the last collection, as [attributes, value]. */
  const points = async (name: string): Promise<[Record<string, unknown>, unknown][]> => {
    metrics.reset();
    await reader.forceFlush();
    const found = metrics
      .getMetrics()
      .flatMap((resource) => resource.scopeMetrics.flatMap((scope) => scope.metrics))
      .find((metric) => metric.descriptor.name === name);
    return (found?.dataPoints ?? []).map((point) => [point.attributes, point.value]);
  };
  return { meterProvider, tracerProvider, spans, points };
}

describe('tiercache/opentelemetry', () => {
  it('exports hits and misses by namespace, tier and cause, loads, errors and the latency histograms', async () => {
    const { meterProvider, tracerProvider, points } = sdk();
    const cache = createCache({ ttl: '1m', hotKeys: false });
    const telemetry = instrumentOpenTelemetry(cache, { meterProvider, tracerProvider });
    const menus = cache.namespace('menus');
    await menus.getOrLoad('1', async () => 'soup');
    await menus.getOrLoad('1', async () => 'soup');
    await menus.getOrLoad('1', async () => 'soup');
    await assert.rejects(cache.getOrLoad('bad', async () => Promise.reject(new Error('down'))));

    const menusAt = { 'tiercache.namespace': '/menus' };
    const hits = await points('tiercache.hits');
    assert.deepEqual(
      hits.find(([at]) => at['tiercache.namespace'] === '/menus' && at['tiercache.tier'] === 'l1')?.[1],
      2,
    );
    const misses = await points('tiercache.misses');
    const cold = misses.filter(([at]) => at['tiercache.miss.cause'] === 'cold');
    assert.deepEqual(
      cold.map(([at, value]) => [at['tiercache.namespace'], value]).sort(),
      [
        ['/', 1],
        ['/menus', 1],
      ].sort(),
    );
    assert.deepEqual(
      (await points('tiercache.loads')).find(([at]) => at['tiercache.namespace'] === '/menus'),
      [menusAt, 1],
    );
    const errors = await points('tiercache.load.errors');
    assert.equal(errors.find(([at]) => at['tiercache.namespace'] === '/')?.[1], 1);
    assert.deepEqual(await points('tiercache.entries'), [[{ 'tiercache.tier': 'l1' }, 1]]);

    const loadDurations = await points('tiercache.load.duration');
    const counts = Object.fromEntries(
      loadDurations.map(([at, value]) => [
        `${at['tiercache.namespace']}:${at['tiercache.outcome']}`,
        (value as { count: number }).count,
      ]),
    );
    assert.deepEqual(counts, { '/menus:ok': 1, '/:error': 1 });
    const calls = await points('tiercache.get_or_load.duration');
    const miss = calls.find(([at]) => at['tiercache.outcome'] === 'miss');
    assert.equal((miss?.[1] as { count: number } | undefined)?.count, 1);

    telemetry.stop();
    await menus.getOrLoad('1', async () => 'soup');
    const after = await points('tiercache.hits');
    assert.equal(
      after.find(([at]) => at['tiercache.namespace'] === '/menus' && at['tiercache.tier'] === 'l1')?.[1],
      2,
      'stopped: the third hit is not observed',
    );
    await cache.close();
    await meterProvider.shutdown();
  });

  it('traces getOrLoad, its load as a child, and set; an error is recorded with status ERROR', async () => {
    const { meterProvider, tracerProvider, spans } = sdk();
    const cache = createCache({ ttl: '1m' });
    const telemetry = instrumentOpenTelemetry(cache, { meterProvider, tracerProvider });
    await cache.getOrLoad('menu:1', async () => 'soup');
    await cache.getOrLoad('menu:1', async () => 'soup');
    await assert.rejects(cache.getOrLoad('menu:2', async () => Promise.reject(new Error('database down'))));
    await cache.set('menu:3', 'bread');

    const finished = spans.getFinishedSpans();
    const summary = finished.map((span) => [
      span.name,
      span.attributes['tiercache.key'],
      span.attributes['tiercache.outcome'],
    ]);
    assert.deepEqual(
      summary.filter(([name]) => name === 'tiercache getOrLoad'),
      [
        ['tiercache getOrLoad', 'menu:1', 'miss'],
        ['tiercache getOrLoad', 'menu:1', 'hit'],
        ['tiercache getOrLoad', 'menu:2', 'error'],
      ],
    );
    const loads = finished.filter((span) => span.name === 'tiercache load');
    assert.equal(loads.length, 2);
    for (const load of loads) {
      const call = finished.find(
        (span) =>
          span.name === 'tiercache getOrLoad' &&
          span.attributes['tiercache.key'] === load.attributes['tiercache.key'] &&
          span.attributes['tiercache.outcome'] !== 'hit',
      );
      assert.equal(load.parentSpanContext?.spanId, call?.spanContext().spanId, 'the load is a child of its call');
      assert.equal(load.spanContext().traceId, call?.spanContext().traceId);
    }
    const failed = finished.find(
      (span) => span.attributes['tiercache.key'] === 'menu:2' && span.name === 'tiercache getOrLoad',
    );
    assert.equal(failed?.status.code, 2 /* SpanStatusCode.ERROR */);
    assert.match(String(failed?.status.message), /database down/);
    assert.equal(failed?.events[0]?.name, 'exception');
    assert.ok(finished.some((span) => span.name === 'tiercache set' && span.attributes['tiercache.key'] === 'menu:3'));

    telemetry.stop();
    spans.reset();
    await cache.getOrLoad('menu:4', async () => 'tea');
    assert.deepEqual(spans.getFinishedSpans(), [], 'stopped: no more spans');
    await cache.close();
    await meterProvider.shutdown();
  });

  it('leaves keys out of spans when asked', async () => {
    const { meterProvider, tracerProvider, spans } = sdk();
    const cache = createCache({ ttl: '1m' });
    const telemetry = instrumentOpenTelemetry(cache, { meterProvider, tracerProvider, recordKeys: false });
    await cache.getOrLoad('user:alice@example.com', async () => 1);
    assert.ok(spans.getFinishedSpans().length > 0);
    assert.ok(spans.getFinishedSpans().every((span) => span.attributes['tiercache.key'] === undefined));
    telemetry.stop();
    await cache.close();
    await meterProvider.shutdown();
  });
});
