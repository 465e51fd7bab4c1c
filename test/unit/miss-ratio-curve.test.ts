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
import { CURVE_SCALES, MissRatioCurve } from '../../src/metrics/miss-ratio-curve.js';
import { seededRandom } from '../../workload/random.js';
import { zipfTrace } from '../../workload/zipf.js';

const LOADER = async () => 1;

/** Runs `keys` through a cache of `capacity` entries; @returns its health report. */
async function run(keys: ArrayLike<number>, capacity: number): Promise<HealthReport> {
  const cache: Cache = createCache({
    ttl: '1h',
    l1: { maxEntries: capacity },
    random: seededRandom(1),
    health: { window: '1h', minRequests: 1000 },
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
    const cache = createCache({ ttl: '1h', l1: { maxEntries: 1000 }, health: { window: '1h', minRequests: 1 } });
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

  it('one-hit wonders: the curve stays flat, so it is still the wrong data', async () => {
    const keys = Array.from({ length: 20_000 }, (_, i) => i);
    const report = await run(keys, 1000);
    assert.equal(report.diagnosis?.cause, 'wrong-data', report.diagnosis?.message);
    const curve = report.curve ?? [];
    assert.ok(curve.length > 0);
    assert.ok((curve.at(-1)?.hitRate ?? 1) < 0.02, 'no memory helps keys read once');
  });
});
