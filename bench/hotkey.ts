/**
 * `npm run bench -- hotkey [--runs 7] [--ms 1000]`: what hot-key detection costs the read path — L1 hit
 * throughput (10,000 keys, random access) with detection on (the default) and off, interleaved runs in
 * their own processes, medians and the ratio (goal ≥ 0.9×).
 *
 * Replication of hot keys across Redis Cluster shards (per-node share of a hot key's reads, off vs on) is
 * the second part of the hot-keys work and not built yet; this bench grows with it.
 */
import { parseArgs } from 'node:util';
import { runWorker } from './lib/child.js';
import { formatRatio, median, printRateTable } from './lib/report.js';

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
