/**
 * One process of the stampede benchmark: connects, reports ready over IPC, and on `go` fires `callers`
 * concurrent get-or-compute calls for one cold key whose loader takes `loaderMs`. Reports the loader
 * calls and the callers' latencies (p50/p99/max, ms).
 */
import { createKeyv } from '@keyv/redis';
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisDriver } from 'bentocache/drivers/redis';
import { createCache as createCacheManager } from 'cache-manager';
import { Cacheable } from 'cacheable';
import { Redis } from 'ioredis';
import { createCache, createMemcachedTier, createRedisTier } from '../dist/index.js';

const [name = 'tiercache', url = '', key = 'cold', callersArg = '10000', loaderMsArg = '20'] = process.argv.slice(2);
const callers = Number(callersArg);
const loaderMs = Number(loaderMsArg);
const shared = url !== '';
let loads = 0;
const loader = async () => {
  loads++;
  await new Promise((resolve) => setTimeout(resolve, loaderMs));
  return { menu: key, from: process.pid };
};

async function contender(): Promise<{ get: (key: string) => Promise<unknown>; close: () => Promise<void> }> {
  switch (name) {
    case 'tiercache-memcached': {
      // `url` is a memcached host:port; waiters poll the lease (Memcached has no notifications).
      const l2 = createMemcachedTier({ servers: [url] });
      const cache = createCache({ ttl: '1m', l2 });
      return { get: (k) => cache.getOrLoad(k, loader), close: () => l2.close() };
    }
    case 'tiercache': {
      if (!shared) {
        const cache = createCache({ ttl: '1m' });
        return { get: (k) => cache.getOrLoad(k, loader), close: () => cache.close() };
      }
      const l2 = createRedisTier({ client: url });
      const cache = createCache({ ttl: '1m', l2 });
      await l2.waitForFill('\u0000warm-up', 1); // subscribed before the start line
      return { get: (k) => cache.getOrLoad(k, loader), close: () => l2.close() };
    }
    case 'bentocache': {
      const store = shared
        ? bentostore()
            .useL1Layer(memoryDriver({ maxItems: 1000 }))
            .useL2Layer(redisDriver({ connection: new Redis(url) }))
        : bentostore().useL1Layer(memoryDriver({ maxItems: 1000 }));
      const bento = new BentoCache({ default: 'store', stores: { store } });
      return { get: (k) => bento.getOrSet({ key: k, factory: loader, ttl: '1m' }), close: () => bento.disconnectAll() };
    }
    case 'cacheable': {
      const cache = shared ? new Cacheable({ secondary: createKeyv(url), ttl: '1m' }) : new Cacheable({ ttl: '1m' });
      return { get: (k) => cache.getOrSet(k, loader), close: async () => void (await cache.disconnect()) };
    }
    case 'cache-manager': {
      const cache = shared ? createCacheManager({ stores: [createKeyv(url)] }) : createCacheManager();
      return { get: (k) => cache.wrap(k, loader, 60_000), close: async () => void (await cache.disconnect()) };
    }
    default:
      throw new Error(`unknown contender ${name}`);
  }
}

const { get, close } = await contender();
// Warm-up on other keys, so the run measures the cache's code, not V8 compiling it in a cold process
// (issuing 10,000 calls took 6–17 ms cold): every contender gets the same warm-up.
for (let round = 0; round < 3; round++) {
  await Promise.all(Array.from({ length: callers }, () => get(`${key}:warm-up:${round}`)));
}
loads = 0;
await new Promise<void>((resolve) => {
  process.on('message', (message: { go?: boolean }) => message.go && resolve());
  process.send?.({ ready: true });
});
const started = performance.now();
const pending = Array.from({ length: callers }, () => get(key).then(() => performance.now() - started));
const issuedMs = performance.now() - started;
const latencies = await Promise.all(pending);
// STAMPEDE_DEBUG=1 shows how long issuing the calls took: in a cold process it is most of the latency.
if (process.env.STAMPEDE_DEBUG)
  process.stderr.write(`${name}: issued ${callers} calls in ${issuedMs.toFixed(1)} ms, ${loads} load(s)\n`);
latencies.sort((a, b) => a - b);
const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] as number;
await close();
process.send?.({ result: { name, loads, p50: at(0.5), p99: at(0.99), max: latencies.at(-1) } }, () => process.exit(0));
