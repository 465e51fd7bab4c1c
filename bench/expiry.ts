/**
 * `npm run bench -- expiry`: one hot key read steadily by 4 processes sharing Redis, across 10 TTL
 * cycles (after one of warm-up), with protections off (no early refresh), XFetch, and refresh-ahead.
 * Counts the callers that waited on a load (goal with protections on: zero after warm-up), the loads per
 * TTL window (goal ≤ 1.5), and latency around expiry. Defaults: TTL 1 s, 2,000 reads/s per process,
 * a 20 ms loader; `--runs N` repeats and prints medians.
 */
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { RedisServer } from '../test/helpers/redis-server.js';
import { runHerd } from './lib/herd.js';
import { median, printTable } from './lib/report.js';

interface Result {
  requests: number;
  waits: number;
  loads: number;
  p50: number;
  p99: number;
  max: number;
}
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    ttl: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '2000' },
    cycles: { type: 'string', default: '10' },
  },
});
const SETTINGS = ['off', 'xfetch', 'refresh-ahead'];
const PROCESSES = 4;
const LOADER_MS = 20;
const WORKER = fileURLToPath(new URL('./expiry-worker.ts', import.meta.url));
const ms = (n: number) => `${n.toFixed(2)} ms`;

function run(setting: string, url: string, key: string): Promise<Result[]> {
  const args = [setting, url, key, values.rate, values.ttl, values.cycles, String(LOADER_MS)] as string[];
  return runHerd<Result>(WORKER, args, PROCESSES);
}

const server = await RedisServer.start();
const cycles = Number(values.cycles);
const perSetting = new Map<string, Result[][]>(SETTINGS.map((s) => [s, []]));
try {
  for (let round = 0; round < Number(values.runs); round++) {
    for (const setting of SETTINGS) {
      perSetting.get(setting)?.push(await run(setting, server.url, `hot-${setting}-${round}`));
      process.stderr.write(`${setting} run ${round + 1} done\n`);
    }
  }
} finally {
  await server.stop();
}
const rows = [['protections', 'reads', 'callers that waited on a load', 'loads per TTL window', 'p50', 'p99', 'max']];
for (const [setting, runs] of perSetting) {
  const sum = (r: Result[], f: keyof Result) => r.reduce((n, x) => n + x[f], 0);
  const worst = (r: Result[], f: keyof Result) => Math.max(...r.map((x) => x[f]));
  rows.push([
    setting,
    String(median(runs.map((r) => sum(r, 'requests')))),
    String(median(runs.map((r) => sum(r, 'waits')))),
    (median(runs.map((r) => sum(r, 'loads'))) / cycles).toFixed(2),
    ms(median(runs.map((r) => worst(r, 'p50')))),
    ms(median(runs.map((r) => worst(r, 'p99')))),
    ms(median(runs.map((r) => worst(r, 'max')))),
  ]);
}
console.log(
  `\nExpiry: one hot key, ${PROCESSES} processes × ${values.rate} reads/s, TTL ${values.ttl} ms × ${cycles} cycles after 1 of warm-up, ${LOADER_MS} ms loader` +
    ` (medians of ${values.runs} run(s); latency: worst process)\n`,
);
printTable(rows);
