/**
 * `npm run bench -- l2 [--runs 3] [--ms 2000]`: L2 **hit** throughput against a real redis-server
 * (started by the bench on a free port, stopped after): ~1 KB JSON value, L1 off, 256 requests in
 * flight. Contenders: the raw ioredis and node-redis clients (GET + JSON.parse, pipelined),
 * tiercache, BentoCache and cacheable over Redis. Each in its own process, interleaved, medians.
 * `--tier memcached`: against a memcached server instead — tiercache's Memcached tier, memjs's raw GET +
 * JSON.parse, and cache-manager over Keyv's Memcached store.
 * `--semi-space 64` runs every contender with `--max-semi-space-size=64` (V8's young generation, in MB).
 */
import { parseArgs } from 'node:util';
import { MemcachedServer } from '../test/helpers/memcached-server.js';
import { RedisServer } from '../test/helpers/redis-server.js';
import { runWorker } from './lib/child.js';
import { printRateTable } from './lib/report.js';

const REDIS = ['tiercache', 'ioredis', 'node-redis', 'bentocache', 'cacheable'];
/** BentoCache and cacheable have no Memcached store; cache-manager has, through Keyv's (memjs). */
const MEMCACHED = ['tiercache-memcached', 'memjs', 'cache-manager-memcached'];
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    ms: { type: 'string', default: '2000' },
    only: { type: 'string' },
    'semi-space': { type: 'string' },
    tier: { type: 'string', default: 'redis' },
  },
});
const memcached = values.tier === 'memcached';
if (!memcached && values.tier !== 'redis') throw new Error(`--tier must be redis or memcached, got ${values.tier}`);
const ALL = memcached ? MEMCACHED : REDIS;
const SELF = ALL[0] as string;
const runs = Number(values.runs);
const semiSpace = values['semi-space'];
const nodeFlags = semiSpace === undefined ? [] : [`--max-semi-space-size=${semiSpace}`];
const CONTENDERS = values.only === undefined ? ALL : [SELF, ...values.only.split(',')];
const server = memcached ? await MemcachedServer.start() : await RedisServer.start();
const target = server instanceof MemcachedServer ? server.address : server.url;
const results = new Map<string, number[]>(CONTENDERS.map((name) => [name, []]));
try {
  for (let run = 0; run < runs; run++) {
    for (let i = 0; i < CONTENDERS.length; i++) {
      const name = CONTENDERS[(i + run) % CONTENDERS.length] as string;
      const { opsPerSec } = await runWorker<{ opsPerSec: number }>(
        'l2-worker.ts',
        [name, target, values.ms as string],
        nodeFlags,
      );
      results.get(name)?.push(opsPerSec);
    }
    process.stderr.write(`run ${run + 1}/${runs} done\n`);
  }
} finally {
  await server.stop();
}
console.log(
  `\nL2 hit (${memcached ? 'Memcached' : 'Redis'} ${server.port}), ~1 KB JSON, L1 off, 256 in flight, median of ${runs} runs of ${values.ms} ms${
    semiSpace === undefined ? '' : `, --max-semi-space-size=${semiSpace}`
  }\n`,
);
printRateTable(results, SELF);
