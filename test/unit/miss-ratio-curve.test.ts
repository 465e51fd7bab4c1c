/**
 * The live miss-ratio curve and the diagnosis built on it, on the workloads where the removal log alone
 * named the wrong cause: a Zipf key space too large for the memory, uniform re-reads at long distances —
 * beside one-hit wonders, which must stay "wrong data" — and a workload whose best window depends on the
 * size. Predictions are checked against actually running the cache at 2× and 4× the capacity.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { type Cache, createCache, type HealthReport, registerPrometheus } from '../../src/index.js';
import { HealthMonitor, type NamespaceTotals, sumUnder } from '../../src/metrics/health.js';
import { CURVE_SCALES, CurveCounts, MissRatioCurve } from '../../src/metrics/miss-ratio-curve.js';
import { SimulationBudget } from '../../src/metrics/simulation-budget.js';
import { addCounters, Counters } from '../../src/metrics/stats.js';
import { seededRandom } from '../../workload/random.js';
import { zipfTrace } from '../../workload/zipf.js';

const LOADER = async () => 1;

/** Runs `keys` through a cache of `capacity` entries; @returns its health report. */
async function run(keys: ArrayLike<number>, capacity: number): Promise<HealthReport> {
  const cache: Cache = createCache({
    ttl: '1h',
    l1: { maxEntries: capacity },
    random: seededRandom(1),
    // The whole sample, as a cache with a core to spare would simulate it: these check the model, not the budget.
    health: { window: '1h', minRequests: 1000, curveBudget: 1 },
  });
  for (let i = 0; i < keys.length; i++) await cache.getOrLoad(`k${keys[i]}`, LOADER);
  const report = cache.stats().health as HealthReport;
  await cache.close();
  return report;
}

describe('miss-ratio curve', () => {
  it('Zipf 0.8 over 200,000 keys, 1,000-entry L1: a key space too large, with 2× and 4× within 3 points', async () => {
    const keys = zipfTrace(200_000, 0.8, 300_000, 42);
    const report = await run(keys, 1000);
    assert.equal(report.diagnosis?.cause, 'capacity-too-small', report.diagnosis?.message);
    assert.match(report.diagnosis?.message ?? '', /key space is too large/);
    const [at2x, at4x] = [(await run(keys, 2000)).hitRate, (await run(keys, 4000)).hitRate];
    const estimate = report.diagnosis?.estimatedHitRate;
    assert.ok(estimate !== undefined);
    assert.ok(Math.abs(estimate.at2x - at2x) <= 0.03, `2×: predicted ${estimate.at2x}, actual ${at2x}`);
    assert.ok(Math.abs(estimate.at4x - at4x) <= 0.03, `4×: predicted ${estimate.at4x}, actual ${at4x}`);
    const curve = report.curve ?? [];
    assert.deepEqual(
      curve.map((p) => p.scale),
      [0.25, 0.5, 1, 2, 4, 8, 16],
    );
    const registry = new Registry();
    const cache = createCache({
      ttl: '1h',
      l1: { maxEntries: 1000 },
      health: { window: '1h', minRequests: 1, curveBudget: 1 },
    });
    for (const key of keys.subarray(0, 50_000)) await cache.getOrLoad(`k${key}`, LOADER);
    const registration = registerPrometheus(cache, { registry });
    const exported = await registry.metrics();
    assert.match(exported, /tiercache_predicted_hit_rate\{scale="4"\} 0\.\d+/, 'exported for Prometheus');
    registration.unregister();
    await cache.close();
    for (let i = 1; i < curve.length; i++) {
      assert.ok((curve[i]?.hitRate as number) >= (curve[i - 1]?.hitRate as number) - 0.02, 'the curve does not fall');
    }
  });

  it('uniform reads over 20,000 keys, ~5 each, 1,000-entry L1: also a key space too large', async () => {
    const random = seededRandom(3);
    const keys = Array.from({ length: 100_000 }, () => Math.floor(random() * 20_000));
    const report = await run(keys, 1000);
    assert.equal(report.diagnosis?.cause, 'capacity-too-small', report.diagnosis?.message);
    const at4x = (await run(keys, 4000)).hitRate;
    assert.ok(Math.abs((report.diagnosis?.estimatedHitRate.at4x ?? 0) - at4x) <= 0.03);
  });

  it('a hot set beside a drifting working set: each size tunes its own window, and 2× and 4× are within 3 points', async () => {
    // Half the reads go to a Zipf hot set (frequency pays), half to a working set of 1,200 keys that drifts
    // by one key every 20 reads (recency pays). At 500 entries the L1 keeps a small window for the hot
    // set; at 2,000 the drifting set fits, and only a large window keeps it. A curve that copied the 1×
    // window into every size predicted 42 % at 4× where the cache hits 52 %.
    const random = seededRandom(9);
    const zipf = zipfTrace(50_000, 0.9, 120_000, 11);
    const keys = Int32Array.from(zipf, (hot, i) =>
      random() < 0.5 ? hot : 1_000_000 + Math.floor(i / 20) + Math.floor(random() * 1200),
    );
    const estimate = (await run(keys, 500)).diagnosis?.estimatedHitRate;
    assert.ok(estimate !== undefined);
    const [at2x, at4x] = [(await run(keys, 1000)).hitRate, (await run(keys, 2000)).hitRate];
    assert.ok(at4x > at2x + 0.1, `the working set fits only at 4×: ${at2x} then ${at4x}`);
    assert.ok(Math.abs(estimate.at2x - at2x) <= 0.03, `2×: predicted ${estimate.at2x}, actual ${at2x}`);
    assert.ok(Math.abs(estimate.at4x - at4x) <= 0.03, `4×: predicted ${estimate.at4x}, actual ${at4x}`);
  });

  it('a byte-bounded L1 keeps its simulations within a quarter of maxBytes, tuned when that allows', () => {
    const tunerEntries = (entries: number) =>
      CURVE_SCALES.reduce((sum, scale) => sum + 6 * Math.min(256, Math.round(scale * entries)), 0);
    const simulated = (entries: number) => CURVE_SCALES.reduce((sum, scale) => sum + Math.round(scale * entries), 0);
    assert.deepEqual(MissRatioCurve.sizeFor(10_000, Number.POSITIVE_INFINITY), { entries: 1024, tuned: true });
    for (const maxBytes of [64e6, 8e6, 4e6, 3e6, 2e6, 1e6, 5e5]) {
      const size = MissRatioCurve.sizeFor(10_000, maxBytes);
      assert.ok(size !== undefined && size.entries >= 32, `${maxBytes} B: a curve`);
      const entries = simulated(size.entries) + (size.tuned ? tunerEntries(size.entries) : 0);
      assert.ok(entries * 100 <= maxBytes / 4 + 100, `${maxBytes} B: ${entries} simulated entries`);
      assert.equal(size.tuned, maxBytes >= 3e6, `${maxBytes} B: tuned only with room for the tuners`);
    }
    assert.equal(MissRatioCurve.sizeFor(10_000, 2e5), undefined, 'no curve below 32 entries at 1×');
  });

  it('spends from a CPU budget: a bucket of time that fills at its share, and a run pays what it took', () => {
    let now = 0;
    const budget = new SimulationBudget(0.03, () => now);
    let steps = 0;
    const step = () => {
      now += 1; // each step takes 1 ms
      steps++;
      return true; // always more to do
    };
    assert.equal(budget.run(step), true);
    assert.equal(steps, 30, 'a full bucket: 30 ms, one second at 3 %');
    assert.equal(budget.available(), false);
    now += 1000; // a second later: 30 ms again, never more
    steps = 0;
    budget.run(step, 5);
    assert.equal(steps, 5, 'one run stops at its own limit');
    now += 100_000;
    steps = 0;
    budget.run(step);
    assert.equal(steps, 30, 'the bucket holds one second of share, however long it rested');
    assert.equal(budget.takeSpent(), 65);
    assert.equal(budget.takeSpent(), 0);
  });

  it('rate control: halves the simulations while samples are dropped, doubles them back when idle', () => {
    const capacity = 100_000;
    const curve = new MissRatioCurve(capacity, { entries: 1024, tuned: false }, seededRandom(2));
    const threshold = (entries: number) => Math.floor((entries / capacity) * 2 ** 32);
    assert.equal(curve.sampleBelow, threshold(1024));
    const overflow = () => {
      for (let i = 0; i < 9000; i++) curve.sample(i); // more than the ring holds: samples dropped
    };
    overflow();
    assert.equal(curve.adapt(0.03, 0.03), false, 'one period of drops is a burst, not a load');
    overflow();
    assert.equal(curve.adapt(0.03, 0.03), true);
    assert.equal(curve.entries, 512);
    assert.equal(curve.sampleBelow, threshold(512));
    assert.equal(curve.pending, 0, 'samples taken at the old rate are dropped with the old simulations');
    for (let halvings = 0; halvings < 10; halvings++) {
      overflow();
      curve.adapt(0.03, 0.03);
      overflow();
      curve.adapt(0.03, 0.03);
    }
    assert.equal(curve.entries, 32, 'never below 32 entries at 1×');
    // Quiet: no drops and under a quarter of the budget used, for a minute of periods.
    for (let i = 0; i < 59; i++) assert.equal(curve.adapt(0.005, 0.03), false);
    assert.equal(curve.adapt(0.005, 0.03), true);
    assert.equal(curve.entries, 64);
    // Busy but keeping up (no drops, over a quarter of the budget): stays.
    for (let i = 0; i < 200; i++) assert.equal(curve.adapt(0.02, 0.03), false);
    assert.equal(curve.entries, 64);
  });

  it('after a resize, samples count again only once the largest simulation could have filled twice', () => {
    const group = new CurveCounts();
    const capacity = 10_000;
    const curve = new MissRatioCurve(capacity, { entries: 64, tuned: false }, seededRandom(2), () => group);
    const below = curve.sampleBelow;
    const keys = Array.from({ length: 200 }, (_, i) => Math.floor((i / 200) * below));
    const feed = (n: number) => {
      for (let i = 0; i < n; i++) {
        curve.sample(keys[i % keys.length] as number, i < keys.length ? `k${i}` : undefined);
        if (curve.pending > 1000) curve.drain();
      }
      curve.drain();
    };
    feed(1000);
    assert.deepEqual(
      group.accesses,
      CURVE_SCALES.map(() => 1000),
      'a cold start counts from the first sample',
    );
    assert.equal(curve.epoch, 0);
    for (let i = 0; i < 2; i++) {
      for (let j = 0; j < 9000; j++) curve.sample(0);
      curve.adapt(0, 0.03);
    }
    assert.equal(curve.entries, 32);
    assert.equal(curve.epoch, 1, 'a health window spanning this takes its curve from after it');
    feed(2 * 16 * 32); // the 16× simulation holds 512 entries: two fills
    assert.deepEqual(
      group.accesses,
      CURVE_SCALES.map(() => 1000),
      'nothing counted while they refill',
    );
    assert.equal(group.epoch, 0);
    feed(100);
    assert.equal(group.epoch, 1, 'counting afresh, for the new simulations');
    assert.deepEqual(
      group.accesses,
      CURVE_SCALES.map(() => 100),
      'and every size counts the same requests',
    );
  });

  it('a health window that spans a resize takes its curve from the counts after it', () => {
    const counters = new Counters();
    const curve = new CurveCounts();
    let epoch = 0;
    const read = () => ({
      namespaces: [{ segments: [], counters: addCounters(new Counters(), counters), curve: curve.copy() }],
      curveEpoch: epoch,
    });
    const settings = { threshold: 0.9, windowMs: 60_000, minRequests: 1, ttlMs: 1000, curve: true };
    const monitor = new HealthMonitor(settings, read, 0);
    // Each step: 1,000 reads, half L1 hits; the simulations hit `rates` of 1,000 samples at each size.
    const step = (rates: readonly number[]) => {
      counters.l1Hits += 500;
      counters.missCold += 500;
      rates.forEach((rate, i) => {
        curve.accesses[i] = (curve.accesses[i] as number) + 1000;
        curve.hits[i] = (curve.hits[i] as number) + rate * 1000;
      });
    };
    const at2x = (report: HealthReport) => report.curve?.find((point) => point.scale === 2)?.hitRate as number;
    step([0.1, 0.2, 0.5, 0.6, 0.7, 0.8, 0.9]);
    assert.ok(Math.abs(at2x(monitor.report(1000)) - 0.6) < 1e-9, 'actual 0.5, + 0.6 − 0.5 at 2×');
    monitor.tick(10_001); // a snapshot in epoch 0
    // The simulations are resized: new caches, whose counts restart (as MissRatioCurve.drain does).
    epoch = 1;
    curve.restart(1);
    const after = [0.3, 0.4, 0.5, 0.55, 0.6, 0.65, 0.7];
    step(after);
    // Mixing both epochs would say (600 + 550) / 2000 − 0.5 + 0.5 = 0.575.
    assert.ok(
      Math.abs(at2x(monitor.report(12_000)) - 0.55) < 1e-9,
      `after the resize: ${at2x(monitor.report(12_000))}`,
    );
    monitor.tick(20_002);
    step(after);
    assert.ok(Math.abs(at2x(monitor.report(21_000)) - 0.55) < 1e-9);
    // A group not counted since the resize holds the old simulations' figures: a sum leaves it out.
    const stale = new CurveCounts().add(curve);
    assert.equal(stale.epoch, 0);
    const sum = sumUnder(
      [{ segments: [], counters: new Counters(), curve: stale }, read().namespaces[0] as NamespaceTotals],
      [],
      1,
    );
    assert.deepEqual(sum.curve.accesses, curve.accesses);
  });

  it('one-hit wonders: the curve stays flat, so it is still the wrong data', async () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => i);
    const report = await run(keys, 1000);
    assert.equal(report.diagnosis?.cause, 'wrong-data', report.diagnosis?.message);
    const curve = report.curve ?? [];
    assert.ok(curve.length > 0);
    assert.ok((curve.at(-1)?.hitRate ?? 1) < 0.02, 'no memory helps keys read once');
  });
});
