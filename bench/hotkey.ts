/**
 * `npm run bench -- hotkey [--runs 7] [--ms 1000]`: what hot-key detection costs the read path — L1 hit
 * throughput (10,000 keys, random access) with detection on (the default) and off, interleaved runs in
 * their own processes, medians and the ratio (goal ≥ 0.9×).
 *
 * Then, on a 3-master Redis Cluster the bench starts: 4 processes read one key with no L1 (every read
 * goes to Redis) for 3 s, with hot-key replication off and on; it prints the reads per second and each
 * master's share of the key's GETs, from the servers' own `INFO commandstats`.
 */
import { parseArgs } from 'node:util';
import { Instance } from '../test/helpers/instances.js';
import { RedisCluster } from '../test/helpers/redis-server.js';
import { runWorker } from './lib/child.js';
import { formatRatio, median, printRateTable, printTable } from './lib/report.js';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '7' }, ms: { type: 'string', default: '1000' } },
});
const CONTENDERS = ['tiercache', 'tiercache-hotkeys-off'];
const runs = Number(values.runs);
const results = new Map<string, number[]>(CONTENDERS.map((name) => [name, []]));
for (let run = 0; run < runs; run++) {
  const order = run % 2 === 0 ? CONTENDERS : [...CONTENDERS].reverse();
  for (const name of order) {
    const { opsPerSec } = await runWorker<{ opsPerSec: number }>('l1-worker.ts', [name, values.ms as string]);
    results.get(name)?.push(opsPerSec);
  }
  process.stderr.write(`run ${run + 1}/${runs} done\n`);
}
console.log(`\nL1 hit, hot-key detection on (tiercache) vs off: 10,000 keys, random access, median of ${runs} runs\n`);
printRateTable(results, 'tiercache');
const ratio = median(results.get('tiercache') as number[]) / median(results.get('tiercache-hotkeys-off') as number[]);
console.log(`\ndetection on ÷ off: ${formatRatio(ratio)} (goal ≥ 0.9×)`);

const PROCESSES = 4;
const READ_MS = 3000;
const cluster = await RedisCluster.start();
const rows = [['replication', 'reads/s (4 processes)', ...cluster.servers.map((_, i) => `master ${i + 1}`)]];
try {
  for (const replication of [false, true]) {
    const instances = await Promise.all(
      Array.from({ length: PROCESSES }, () =>
        Instance.start({ urls: cluster.urls, l1: false, ...(replication ? {} : { hotKeys: false as const }) }),
      ),
    );
    const key = `celebrity-${replication}`;
    const read = (ms: number) =>
      Promise.all(instances.map((i) => i.send<{ reads: number }>({ op: 'read', key, value: 'menu', ms })));
    await read(2500); // warm-up: detection, announcements, copies
    for (const server of cluster.servers) await server.cli('CONFIG', 'RESETSTAT');
    const reads = (await read(READ_MS)).reduce((n, r) => n + r.reads, 0);
    const gets = await Promise.all(
      cluster.servers.map(async (s) =>
        Number(/cmdstat_get:calls=(\d+)/.exec(await s.cli('INFO', 'commandstats'))?.[1] ?? 0),
      ),
    );
    const total = gets.reduce((a, b) => a + b, 0);
    rows.push([
      replication ? 'on' : 'off',
      Math.round(reads / (READ_MS / 1000)).toLocaleString('en-US'),
      ...gets.map((n) => `${((n / total) * 100).toFixed(0)} %`),
    ]);
    for (const instance of instances) await instance.stop();
  }
} finally {
  await cluster.stop();
}
console.log(
  `\nOne hot key on a 3-master cluster, ${PROCESSES} processes, L1 off, ${READ_MS / 1000} s: each master's share of its GETs\n`,
);
printTable(rows);
