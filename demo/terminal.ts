/**
 * `npm start`: the terminal demo. Seeds a SQLite database with restaurant menus (once; reused on the
 * next start), then reads menus with Zipf-skewed ids through tiercache's `getOrLoad` from many
 * concurrent callers, showing live how few reads reach the database, and ends with a summary.
 */
import { createHistogram } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createCache, createRedisTier, parseDuration } from '../src/index.js';
import { seededRandom } from '../workload/random.js';
import { Zipf } from '../workload/zipf.js';
import { MenuDb } from './menu-db.js';
import { count, duration, progressBar, StatusLine } from './terminal-ui.js';

const HELP = `tiercache demo — a menu service's reads, through the cache, against a real SQLite database

usage: npm start -- [options]

  --duration <d>      how long to run the load, e.g. 20s, 2m        (default 20s)
  --restaurants <n>   menus in the database                         (default 50000)
  --skew <s>          Zipf exponent of the ids read (0 = uniform)   (default 1.0)
  --concurrency <n>   callers reading at once                       (default 32)
  --ttl <d>           cache TTL of a menu                           (default 60s)
  --l1-entries <n>    memory tier capacity, in menus                (default 30000)
  --db <path>         SQLite file (created and seeded if needed)    (default .data/menus.db)
  --seed <n>          random seed of the workload                   (default 7)
  --redis <url>       add a shared Redis tier (L2), e.g. redis://127.0.0.1:6379
                      (default: $REDIS_URL if set, else none)
  --help              this text
`;

/** Callers yield to the event loop this often, so timers (the status line, the clock) keep running. */
const YIELD_EVERY = 64;
const STATUS_EVERY_MS = 250;

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '20s' },
    restaurants: { type: 'string', default: '50000' },
    skew: { type: 'string', default: '1.0' },
    concurrency: { type: 'string', default: '32' },
    ttl: { type: 'string', default: '60s' },
    'l1-entries': { type: 'string', default: '30000' },
    db: { type: 'string', default: '.data/menus.db' },
    seed: { type: 'string', default: '7' },
    redis: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(HELP);
  process.exit(0);
}

function wholeNumber(name: string, text: string | undefined): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) {
    process.stderr.write(`--${name} must be a whole number above zero, got ${text}\n\n${HELP}`);
    process.exit(2);
  }
  return n;
}

const runMs = parseDuration(values.duration, 'duration');
const restaurants = wholeNumber('restaurants', values.restaurants);
const concurrency = wholeNumber('concurrency', values.concurrency);
const l1Entries = wholeNumber('l1-entries', values['l1-entries']);
const seed = wholeNumber('seed', values.seed);
const skew = Number(values.skew);
if (!(skew >= 0)) {
  process.stderr.write(`--skew must be a number ≥ 0, got ${values.skew}\n`);
  process.exit(2);
}

const out = process.stdout;
out.write(`Seeding ${values.db} …\n`);
const seeding = new StatusLine(out, 1000);
const db = MenuDb.open(values.db as string, restaurants, (done, total) =>
  seeding.update(progressBar(done, total, 'menus'), done === total),
);
seeding.done();

const redisUrl = values.redis ?? process.env.REDIS_URL;
// A tier created from a URL owns its client; a distinct prefix keeps the demo's keys apart.
const l2 = redisUrl === undefined ? undefined : createRedisTier({ client: redisUrl, prefix: 'tiercache-demo:' });
const cache = createCache({ ttl: values.ttl as string, l1: { maxEntries: l1Entries }, ...(l2 ? { l2 } : {}) });
const zipf = new Zipf(restaurants, skew, seededRandom(seed));
const latency = createHistogram();
const window = createHistogram();
let requests = 0;
const started = performance.now();
const deadline = started + runMs;

async function caller(): Promise<void> {
  while (performance.now() < deadline) {
    for (let i = 0; i < YIELD_EVERY; i++) {
      const id = zipf.next() + 1;
      const t0 = performance.now();
      await cache.getOrLoad(`menu:${id}`, () => db.getMenu(id));
      const ns = Math.max(1, Math.round((performance.now() - t0) * 1e6));
      latency.record(ns);
      window.record(ns);
      requests++;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

out.write(
  `Reading menus: ${count(concurrency)} callers, Zipf s=${skew} over ${count(restaurants)} ids, TTL ${values.ttl}, L1 ${count(l1Entries)} entries, for ${values.duration}\n`,
);
const status = new StatusLine(out);
let lastRequests = 0;
let lastReads = 0;
let lastAt = started;
const ticker = setInterval(() => {
  const now = performance.now();
  const seconds = (now - lastAt) / 1000;
  const stats = cache.stats();
  status.update(
    `${((now - started) / 1000).toFixed(1).padStart(5)}s  requests ${count(requests)} (${count((requests - lastRequests) / seconds)}/s)` +
      `  db reads ${count(db.reads)} (${count((db.reads - lastReads) / seconds)}/s)` +
      `  hit rate ${(stats.hitRate * 100).toFixed(2)}%` +
      `  p50 ${duration(window.percentile(50))}  p99 ${duration(window.percentile(99))}`,
  );
  window.reset();
  lastRequests = requests;
  lastReads = db.reads;
  lastAt = now;
}, STATUS_EVERY_MS);

await Promise.all(Array.from({ length: concurrency }, caller));
clearInterval(ticker);
status.done();

const elapsed = (performance.now() - started) / 1000;
const stats = cache.stats();
const offload = db.reads === 0 ? Number.POSITIVE_INFINITY : requests / db.reads;
const rows: [string, string, string][] = [
  ['requests', count(requests), `${count(requests / elapsed)}/s`],
  [
    'database reads',
    count(db.reads),
    `the cache answered ${((1 - db.reads / requests) * 100).toFixed(2)}%: ${offload.toFixed(0)}× fewer queries`,
  ],
  [
    'hit rate',
    `${(stats.hitRate * 100).toFixed(2)}%`,
    `L1 holds ${count(stats.l1?.entries ?? 0)}; ${count(stats.l1?.evictions ?? 0)} evicted, ${count(stats.l1?.expirations ?? 0)} expired`,
  ],
  ['loads collapsed', count(stats.collapsed), 'callers that joined a load already running instead of querying again'],
  [
    'miss causes',
    count(stats.misses),
    `cold ${count(stats.missCauses.cold)}, evicted ${count(stats.missCauses.evicted)}, ` +
      `expired ${count(stats.missCauses.expired)}, invalidated ${count(stats.missCauses.invalidated)}`,
  ],
  [
    'latency',
    `p50 ${duration(latency.percentile(50))}`,
    `p99 ${duration(latency.percentile(99))}, max ${duration(latency.max)}`,
  ],
];
if (stats.l2 !== undefined) {
  rows.splice(3, 0, [
    'shared tier (L2)',
    `${count(stats.l2.hits)} hits`,
    `${count(stats.l2.misses)} misses, ${count(stats.l2.errors)} errors absorbed (${redisUrl})`,
  ]);
}
out.write(`\nSummary after ${elapsed.toFixed(1)} s\n`);
for (const [label, value, note] of rows) out.write(`  ${label.padEnd(16)} ${value.padStart(12)}   ${note}\n`);
const health = stats.health;
if (health?.diagnosis !== undefined) {
  out.write(
    `\nHit rate below ${(health.threshold * 100).toFixed(0)}% over the last ${(health.windowMs / 1000).toFixed(0)} s: ${health.diagnosis.message}\n`,
  );
}

await cache.close();
await l2?.close();
db.close();
