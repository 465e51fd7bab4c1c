/**
 * `npm run bench -- l1 [--runs 5] [--ms 1000]`: L1 **hit** throughput of get-or-compute APIs.
 *
 * 10,000 keys, all cached, read in random order. Each contender runs in its own process; runs are
 * interleaved (contender order rotates each run) so machine noise spreads evenly; the table shows the
 * median of the runs and tiercache's ratio to each contender.
 */
import { parseArgs } from 'node:util';
import { runWorker } from './lib/child.js';
import { formatRatio, median, printRateTable, printTable } from './lib/report.js';

const ALL_CONTENDERS = [
  'tiercache',
  'tiercache-hoisted-loader',
  'tiercache-stats-off',
  'async-map',
  'lru-cache',
  'cacheable',
  'cache-manager',
  'bentocache',
];

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    ms: { type: 'string', default: '1000' },
    only: { type: 'string' },
    'no-memory': { type: 'boolean', default: false },
  },
});
const CONTENDERS = values.only === undefined ? ALL_CONTENDERS : ['tiercache', ...values.only.split(',')];
const runs = Number(values.runs);
const ms = values.ms as string;

const results = new Map<string, number[]>(CONTENDERS.map((name) => [name, []]));
for (let run = 0; run < runs; run++) {
  const order = CONTENDERS.map((_, i) => CONTENDERS[(i + run) % CONTENDERS.length] as string);
  for (const name of order) {
    const { opsPerSec } = await runWorker<{ opsPerSec: number }>('l1-worker.ts', [name, ms]);
    results.get(name)?.push(opsPerSec);
  }
  process.stderr.write(`run ${run + 1}/${runs} done\n`);
}

const ours = median(results.get('tiercache') as number[]);
const statsOff = results.get('tiercache-stats-off');
console.log(`\nL1 hit through get-or-compute: 10,000 keys, random access, median of ${runs} runs of ${ms} ms\n`);
printRateTable(results, 'tiercache');
const hoisted = results.get('tiercache-hoisted-loader');
const lru = results.get('lru-cache');
if (hoisted !== undefined && lru !== undefined && hoisted.length > 0 && lru.length > 0) {
  const perRun = hoisted.map((rate, i) => formatRatio(rate / (lru[i] as number))).join(', ');
  console.log(
    `\ntiercache (hoisted loader) ÷ lru-cache fetch: ${formatRatio(median(hoisted) / median(lru))} (per run: ${perRun})`,
  );
}
if (statsOff !== undefined && statsOff.length > 0) {
  console.log(`\nstats on ÷ stats off (counters only): ${formatRatio(ours / median(statsOff))} (goal ≥ 0.9×)`);
}

const MEMORY_CONTENDERS = values['no-memory'] ? [] : ['tiercache', 'lru-cache', 'map'];
const memory = new Map<string, number[]>(MEMORY_CONTENDERS.map((name) => [name, []]));
for (let run = 0; run < 3; run++) {
  for (const name of MEMORY_CONTENDERS) {
    const { bytesPerEntry } = await runWorker<{ bytesPerEntry: number }>('memory-worker.ts', [name], ['--expose-gc']);
    memory.get(name)?.push(bytesPerEntry);
  }
}
if (MEMORY_CONTENDERS.length > 0)
  console.log(
    '\nHeap per entry: a cache bounded at 1,000,000 small entries, one insert past its bound (key strings ' +
      'excluded), median of 3 runs\n',
  );
if (MEMORY_CONTENDERS.length > 0)
  printTable([
    ['contender', 'bytes/entry'],
    ...MEMORY_CONTENDERS.map((name) => [
      name === 'map' ? 'Map (no policy, no TTL)' : name,
      median(memory.get(name) as number[]).toFixed(0),
    ]),
  ]);
