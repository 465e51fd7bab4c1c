/**
 * `npm run bench -- overload`: 10,000 distinct cold keys at once against `maxConcurrentLoads: 8` and a
 * 200 ms loader. How fast are the excess callers refused? Arrival is the variable: all 10,000 in one
 * synchronous turn of the event loop (no refusal can be delivered before the turn ends), or 1,000 or
 * 100 per turn, as requests arriving from a network are. Prints the refusal latency per caller.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createCache } from '../dist/index.js';
import { printTable } from './lib/report.js';

const KEYS = 10_000;
const LIMIT = 8;
const loader = () => new Promise((resolve) => setTimeout(() => resolve('row'), 200));
const rows = [['calls per event-loop turn', 'refused', 'p50', 'p99', 'max']];
for (const perTurn of [KEYS, 1000, 100]) {
  const cache = createCache({ ttl: 60_000, maxConcurrentLoads: LIMIT });
  // Warm-up: the refusal path compiled, as in a process that has been serving for a while.
  await Promise.all(Array.from({ length: 2000 }, (_, i) => cache.getOrLoad(`warm:${i}`, loader).catch(() => {})));
  const latencies: number[] = [];
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < KEYS; i += perTurn) {
    for (let j = i; j < i + perTurn; j++) {
      const called = performance.now();
      calls.push(cache.getOrLoad(`cold:${j}`, loader).catch(() => latencies.push(performance.now() - called)));
    }
    await nextTurn();
  }
  await Promise.all(calls);
  latencies.sort((a, b) => a - b);
  const at = (q: number) => `${(latencies[Math.floor(q * (latencies.length - 1))] ?? 0).toFixed(2)} ms`;
  rows.push([perTurn.toLocaleString('en-US'), latencies.length.toLocaleString('en-US'), at(0.5), at(0.99), at(1)]);
  await cache.close();
}
console.log(
  `\nOverload: ${KEYS.toLocaleString('en-US')} distinct cold keys, maxConcurrentLoads ${LIMIT}, 200 ms loader: refusal latency\n`,
);
printTable(rows);
