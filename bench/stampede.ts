/**
 * `npm run bench -- stampede`: 10,000 concurrent requests for one cold key with a 20 ms loader, in one
 * process (in-memory) and across 4 processes sharing a Redis the bench starts. Counts loader calls and
 * the callers' latency. Processes start behind a barrier: each connects, reports ready, and fires only
 * when the parent says go, so the herd is real. Goal: exactly one load across the 4 processes, waiters
 * woken by notification (p99 near the loader time), single-process p99 ≤ 25 ms. `--tier memcached`: the
 * 4-process herd over a memcached the bench starts (leases; waiters poll).
 */
import { fileURLToPath } from 'node:url';
import { MemcachedServer } from '../test/helpers/memcached-server.js';
import { RedisServer } from '../test/helpers/redis-server.js';
import { runHerd } from './lib/herd.js';
import { printTable } from './lib/report.js';

interface Result {
  loads: number;
  p50: number;
  p99: number;
  max: number;
}
const CONTENDERS = ['tiercache', 'bentocache', 'cacheable', 'cache-manager'];
const CALLERS = 10_000;
const PROCESSES = 4;
const LOADER_MS = 20;
const WORKER = fileURLToPath(new URL('./stampede-worker.ts', import.meta.url));
const ms = (n: number) => `${n.toFixed(1)} ms`;

/** Runs the contender's herd: `count` processes sharing `CALLERS` between them. */
function herd(name: string, url: string, key: string, count: number): Promise<Result[]> {
  return runHerd<Result>(WORKER, [name, url, key, String(CALLERS / count), String(LOADER_MS)], count);
}

const server = await RedisServer.start();
const rows: string[][] = [['contender', 'setting', 'loader calls', 'p50', 'p99', 'max']];
const memcached = process.argv.includes('--tier') && process.argv.includes('memcached');
try {
  if (memcached) {
    // `--tier memcached`: tiercache over a memcached the bench starts, leases and lease polling.
    const mc = await MemcachedServer.start();
    try {
      const results = await herd('tiercache-memcached', mc.address, 'shared-memcached', PROCESSES);
      rows.push([
        'tiercache',
        `${PROCESSES} processes, Memcached`,
        String(results.reduce((sum, r) => sum + r.loads, 0)),
        ms(Math.max(...results.map((r) => r.p50))),
        ms(Math.max(...results.map((r) => r.p99))),
        ms(Math.max(...results.map((r) => r.max))),
      ]);
    } finally {
      await mc.stop();
    }
  }
  for (const name of memcached ? [] : CONTENDERS) {
    const [single] = (await herd(name, '', `cold-${name}`, 1)) as [Result];
    rows.push([name, '1 process, in-memory', String(single.loads), ms(single.p50), ms(single.p99), ms(single.max)]);
    const results = await herd(name, server.url, `shared-${name}`, PROCESSES);
    rows.push([
      name,
      `${PROCESSES} processes, Redis`,
      String(results.reduce((sum, r) => sum + r.loads, 0)),
      ms(Math.max(...results.map((r) => r.p50))),
      ms(Math.max(...results.map((r) => r.p99))),
      ms(Math.max(...results.map((r) => r.max))),
    ]);
    process.stderr.write(`${name} done\n`);
  }
} finally {
  await server.stop();
}
console.log(
  `\nStampede: ${CALLERS.toLocaleString('en-US')} concurrent requests, one cold key, ${LOADER_MS} ms loader (latency: worst process)\n`,
);
printTable(rows);
