/**
 * `npm run bench -- curve [--traces DIR]`: how well the live miss-ratio curve (miniature simulations,
 * `src/metrics/miss-ratio-curve.ts`) predicts the L1's hit rate at other sizes. For each workload the
 * real W-TinyLFU tier runs at 0.5×, 1×, 2× and 4× a capacity C; the curve is fed from the 1× run only,
 * as in a live cache, and its predictions are set beside the actual figures.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { hashString } from '../dist/memory/hash.js';
import { MemoryTier, MISS } from '../dist/memory/memory-tier.js';
import { CURVE_SCALES, MissRatioCurve, predictCurve } from '../dist/metrics/miss-ratio-curve.js';
import { seededRandom } from '../workload/random.js';
import { readCache2kTrace, readLirsTrace, type Trace } from '../workload/traces.js';
import { zipfTrace } from '../workload/zipf.js';

const { values } = parseArgs({ options: { traces: { type: 'string', default: '../shared/traces' } } });

function run(requests: Int32Array, names: string[], capacity: number, curve?: MissRatioCurve): number {
  const tier = new MemoryTier({ maxEntries: capacity, maxBytes: Number.POSITIVE_INFINITY }, seededRandom(42));
  let hits = 0;
  for (let i = 0; i < requests.length; i++) {
    const name = names[requests[i] as number] as string;
    if (tier.get(name, 0) !== MISS) hits++;
    else tier.set(name, 1, 1, Number.MAX_SAFE_INTEGER, 0);
    if (curve !== undefined) {
      const hash = hashString(name, 7) >>> 0;
      if (hash < curve.sampleBelow) curve.sample(hash);
      if ((i & 1023) === 0) curve.drain();
    }
  }
  return hits / requests.length;
}

const rows: string[][] = [];
const errors: number[] = [];
function measure(name: string, trace: Trace, capacity: number): void {
  const names = Array.from({ length: trace.distinct }, (_, id) => `k${id}`);
  const curve = new MissRatioCurve(
    capacity,
    MissRatioCurve.sizeFor(capacity, Number.POSITIVE_INFINITY) ?? { entries: capacity, tuned: true },
    seededRandom(7),
  );
  const actual1 = run(trace.requests, names, capacity, curve);
  const zero = { hits: CURVE_SCALES.map(() => 0), accesses: CURVE_SCALES.map(() => 0) };
  const predicted = predictCurve(curve.totals(), zero, actual1);
  const row = [name, String(capacity), (actual1 * 100).toFixed(1)];
  for (const scale of [0.5, 2, 4]) {
    const actual = run(trace.requests, names, Math.max(1, Math.round(capacity * scale)));
    const p = predicted[CURVE_SCALES.indexOf(scale)];
    if (p !== undefined) errors.push(Math.abs(p - actual));
    row.push(`${(actual * 100).toFixed(1)} / ${p === undefined ? '—' : (p * 100).toFixed(1)}`);
  }
  rows.push(row);
  console.log(row.join('  '));
}

for (const s of [0.6, 0.8, 1.0]) {
  const requests = zipfTrace(200_000, s, 1_000_000, 42);
  measure(`zipf ${s}, 200k keys`, { name: 'zipf', requests, distinct: 200_000 }, 1000);
  measure(`zipf ${s}, 200k keys`, { name: 'zipf', requests, distinct: 200_000 }, 10_000);
}
const uniform = new Int32Array(100_000);
const random = seededRandom(3);
for (let i = 0; i < uniform.length; i++) uniform[i] = Math.floor(random() * 20_000);
measure('uniform 20k keys (5 reads each)', { name: 'u', requests: uniform, distinct: 20_000 }, 1000);
for (const file of [
  ...['multi1', 'multi2', 'multi3', 'gli', 'ps', 'sprite', 'loop', '2_pools', 'cs', 'cpp'].map(
    (n) => `lirs-${n}.trace.gz`,
  ),
  'cache2k-web07.trace.xz',
  'cache2k-web12.trace.xz',
]) {
  const path = join(values.traces as string, file);
  if (!existsSync(path)) continue;
  const trace = file.startsWith('lirs') ? readLirsTrace(path, file) : readCache2kTrace(path, file);
  for (const share of [0.01, 0.05])
    measure(`${file} ${share * 100}%`, trace, Math.max(10, Math.round(trace.distinct * share)));
}
errors.sort((a, b) => a - b);
const mean = errors.reduce((a, b) => a + b, 0) / errors.length;
console.log(
  `\nabsolute error of the predictions (points): mean ${(mean * 100).toFixed(2)}, max ${((errors.at(-1) ?? 0) * 100).toFixed(2)}, ` +
    `share within 3 points ${((errors.filter((e) => e <= 0.03).length / errors.length) * 100).toFixed(0)}%`,
);
