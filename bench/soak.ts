/**
 * `npm run soak -- [--minutes 5] [--every 30]`: mixed load on three cache instances sharing a real Redis
 * (two of them through a fault proxy), with a network or server fault every `--every` seconds, cycling
 * through: partition (blackhole), reset, added latency, a half-open pub/sub connection, refused
 * connections, and a Redis crash and restart (all data lost). Not a test and not in CI: it prints
 *
 * - failed reads (goal 0: a loader is always available),
 * - stale values after quiesce (goal 0: once faults stop and unconfirmed writes are repaired, every
 *   instance reads what the database holds, for every key),
 * - the heap before and after (after full collections).
 */

import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type Cache, createCache, createRedisTier, type RedisTier } from '../src/index.js';
import { FaultProxy } from '../test/helpers/fault-proxy.js';
import { RedisServer } from '../test/helpers/redis-server.js';
import { seededRandom } from '../workload/random.js';
import { Zipf } from '../workload/zipf.js';

const { values } = parseArgs({
  options: { minutes: { type: 'string', default: '5' }, every: { type: 'string', default: '30' } },
});
const durationMs = Number(values.minutes) * 60_000;
const everyMs = Number(values.every) * 1000;
const KEYS = 5000;
const CALLERS_PER_INSTANCE = 12;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapMb = () => {
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

const server = await RedisServer.start();
const proxy = await FaultProxy.start(server.port);
const tiers: RedisTier[] = [
  createRedisTier({ client: proxy.url }),
  createRedisTier({ client: proxy.url }),
  createRedisTier({ client: server.url }),
];
const instances: Cache[] = tiers.map((l2) => createCache({ ttl: '20s', grace: '1m', softTimeout: '200ms', l2 }));

const db = new Map<number, number>(Array.from({ length: KEYS }, (_, id) => [id, 0]));
const row = async (id: number) => {
  await sleep(1 + Math.random() * 2);
  return { id, version: db.get(id) as number, tag: `group:${id % 50}` };
};

let failed = 0;
let reads = 0;
let writes = 0;
let stop = false;
const errors = new Map<string, number>();
const fail = (error: unknown) => {
  failed++;
  const name = String(error).slice(0, 120);
  errors.set(name, (errors.get(name) ?? 0) + 1);
};

async function caller(cache: Cache, seed: number): Promise<void> {
  const random = seededRandom(seed);
  const zipf = new Zipf(KEYS, 0.9, random);
  while (!stop) {
    const id = zipf.next();
    const dice = random();
    try {
      if (dice < 0.85) {
        await cache.getOrLoad(`menu:${id}`, async (context) => {
          const value = await row(id);
          context.setTags([value.tag]);
          return value;
        });
        reads++;
      } else if (dice < 0.9) {
        // Rows of one group, so the batch's tags are every row's.
        const ids = [id, (id + 50) % KEYS, (id + 350) % KEYS];
        await cache.getOrLoadMany(
          ids.map((i) => `menu:${i}`),
          async (keys) =>
            new Map(await Promise.all(keys.map(async (key) => [key, await row(Number(key.slice(5)))] as const))),
          { tags: [`group:${id % 50}`] },
        );
        reads++;
      } else if (dice < 0.97) {
        await cache.writeThrough(
          `menu:${id}`,
          { id, version: (db.get(id) as number) + 1, tag: `group:${id % 50}` },
          (value) => db.set(id, value.version),
          { tags: [`group:${id % 50}`] }, // a write carries the row's tags, as its load does
        );
        writes++;
      } else if (dice < 0.99) {
        db.set(id, (db.get(id) as number) + 1);
        await cache.delete(`menu:${id}`);
        writes++;
      } else if (process.env.SOAK_NO_TAGS === undefined) {
        const group = id % 50;
        for (let i = group; i < KEYS; i += 50) db.set(i, (db.get(i) as number) + 1);
        await cache.invalidateTags([`group:${group}`]);
        writes++;
      }
    } catch (error) {
      fail(error);
    }
    await sleep(random() * 2);
  }
}

const FAULTS: [string, () => Promise<void>][] = [
  [
    'partition 3 s',
    async () => {
      proxy.blackhole();
      await sleep(3000);
      proxy.heal();
    },
  ],
  ['connection reset', async () => proxy.reset()],
  [
    '200 ms latency for 5 s',
    async () => {
      proxy.latency(200);
      await sleep(5000);
      proxy.heal();
    },
  ],
  [
    'pub/sub half-open 5 s',
    async () => {
      proxy.halfOpen('pubsub');
      await sleep(5000);
      proxy.heal();
    },
  ],
  [
    'refused connections 3 s',
    async () => {
      proxy.refuse(true);
      proxy.reset();
      await sleep(3000);
      proxy.refuse(false);
    },
  ],
  [
    'Redis crash and restart',
    async () => {
      await server.kill();
      await sleep(1000);
      await server.restart();
    },
  ],
];

const heapBefore = heapMb();
const started = Date.now();
console.log(
  `soak: ${values.minutes} min, a fault every ${values.every} s, ${instances.length} instances × ${CALLERS_PER_INSTANCE} callers`,
);
const load = instances.flatMap((cache, n) =>
  Array.from({ length: CALLERS_PER_INSTANCE }, (_, i) => caller(cache, n * 100 + i)),
);
let fault = 0;
while (Date.now() - started < durationMs) {
  await sleep(Math.min(everyMs, durationMs - (Date.now() - started)));
  if (Date.now() - started >= durationMs) break;
  const [name, inject] = FAULTS[fault++ % FAULTS.length] as [string, () => Promise<void>];
  const at = ((Date.now() - started) / 1000).toFixed(0);
  await inject();
  console.log(`  ${at} s: ${name} — ${reads} reads, ${writes} writes, ${failed} failed so far`);
}
stop = true;
await Promise.all(load);
proxy.heal();

// Quiesce: unconfirmed writes repaired, then every instance must read what the database holds.
const quiesceStarted = Date.now();
while (instances.some((cache) => (cache.stats().l2?.pending ?? 0) > 0) && Date.now() - quiesceStarted < 60_000)
  await sleep(100);
const pending = instances.map((cache) => cache.stats().l2?.pending ?? 0);
await sleep(1000); // the repairs' bus messages reach the other instances
let stale = 0;
const staleByInstance = instances.map(() => 0);
for (const [n, cache] of instances.entries()) {
  for (let id = 0; id < KEYS; id++) {
    const value = (await cache.getOrLoad(`menu:${id}`, () => row(id))) as { version: number };
    if (value.version !== db.get(id)) {
      stale++;
      staleByInstance[n] = (staleByInstance[n] ?? 0) + 1;
    }
  }
}
console.log(`stale by instance: ${staleByInstance.join('/')}`);
const heapAfter = heapMb();
console.log(`\n${reads} reads, ${writes} writes in ${((Date.now() - started) / 1000).toFixed(0)} s`);
console.log(`failed reads and writes: ${failed} (goal 0)${errors.size > 0 ? ` ${JSON.stringify([...errors])}` : ''}`);
console.log(
  `stale values after quiesce: ${stale} of ${KEYS * instances.length} (goal 0); writes still unconfirmed: ${pending.join('/')}`,
);
console.log(`heap: ${heapBefore.toFixed(1)} MB before, ${heapAfter.toFixed(1)} MB after`);
for (const [n, cache] of instances.entries()) {
  const s = cache.stats();
  console.log(
    `instance ${n}: hit rate ${(s.hitRate * 100).toFixed(1)} %, L2 errors ${s.l2?.errors}, deferred ${s.l2?.deferred}, repaired ${s.l2?.repaired}, bus gaps ${s.bus?.gaps}, stale served ${s.freshness.staleServed}, stale loads dropped ${s.freshness.staleLoadsDropped}`,
  );
}
await Promise.all(instances.map((cache) => cache.close()));
await Promise.all(tiers.map((tier) => tier.close()));
await proxy.close();
await server.stop();
