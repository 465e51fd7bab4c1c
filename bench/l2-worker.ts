/**
 * One contender of the L2 hit benchmark, in its own process: 1,000 keys holding a ~1 KB JSON value in
 * Redis, read at random by 256 concurrent callers, L1 off. Prints `{ opsPerSec }`.
 */

import KeyvMemcache from '@keyv/memcache';
import { createKeyv } from '@keyv/redis';
import { createClient } from '@redis/client';
import { BentoCache, bentostore } from 'bentocache';
import { redisDriver } from 'bentocache/drivers/redis';
import { createCache as createCacheManager } from 'cache-manager';
import { Cacheable } from 'cacheable';
import { Redis } from 'ioredis';
import Keyv from 'keyv';
import memjs from 'memjs';
import { createCache, createMemcachedTier, createRedisTier } from '../dist/index.js';

const KEYS = 1000;
const IN_FLIGHT = 256;
const TTL_MS = 600_000;
const value = {
  id: 1,
  restaurant: 'Restaurant #1',
  items: Array.from({ length: 12 }, (_, i) => ({ name: `dish number ${i} with a description`, price: 12.5 + i })),
};

const [name = 'tiercache', url = 'redis://127.0.0.1:6379', durationArg = '2000'] = process.argv.slice(2);
const durationMs = Number(durationArg);
const keys = Array.from({ length: KEYS }, (_, i) => `menu:${i}`);
const compute = () => value;

type Get = (key: string) => Promise<unknown>;

async function tiercache(stats: boolean): Promise<{ get: Get; close: () => Promise<void> }> {
  const l2 = createRedisTier({ client: url });
  const cache = createCache({ ttl: TTL_MS, l1: false, l2, stats });
  for (const key of keys) await cache.set(key, value);
  return { get: (key) => cache.getOrLoad(key, compute), close: () => l2.close() };
}

/** `url` for the Memcached contenders: `host:port` of a memcached server. */
async function contender(): Promise<{ get: Get; close: () => Promise<void> }> {
  switch (name) {
    case 'tiercache-memcached': {
      const l2 = createMemcachedTier({ servers: [url] });
      const cache = createCache({ ttl: TTL_MS, l1: false, l2 });
      for (const key of keys) await cache.set(key, value);
      return { get: (key) => cache.getOrLoad(key, compute), close: () => l2.close() };
    }
    case 'memjs': {
      // The maintained client's raw GET + JSON.parse (binary protocol).
      const client = memjs.Client.create(url);
      for (const key of keys) await client.set(`mraw:${key}`, JSON.stringify(value), { expires: TTL_MS / 1000 });
      return {
        get: async (key) => JSON.parse(((await client.get(`mraw:${key}`)).value as Buffer).toString()),
        close: async () => client.close(),
      };
    }
    case 'cache-manager-memcached': {
      const store = new Keyv({ store: new KeyvMemcache(url) });
      const cache = createCacheManager({ stores: [store] });
      for (const key of keys) await cache.set(key, value, TTL_MS);
      return {
        get: (key) => cache.wrap(key, async () => compute(), TTL_MS),
        close: async () => void (await cache.disconnect()),
      };
    }
    case 'ioredis': {
      const client = new Redis(url, { enableAutoPipelining: true });
      for (const key of keys) await client.set(`raw:${key}`, JSON.stringify(value), 'PX', TTL_MS);
      return {
        get: async (key) => JSON.parse((await client.get(`raw:${key}`)) as string),
        close: async () => void client.disconnect(),
      };
    }
    case 'node-redis': {
      const client = createClient({ url });
      await client.connect();
      for (const key of keys) await client.set(`nraw:${key}`, JSON.stringify(value), { PX: TTL_MS });
      return {
        get: async (key) => JSON.parse((await client.get(`nraw:${key}`)) as string),
        close: async () => void (await client.quit()),
      };
    }
    case 'tiercache':
      return tiercache(true);
    case 'tiercache-stats-off':
      // Counters only: no latency timing, miss causes or health window.
      return tiercache(false);
    case 'bentocache': {
      const bento = new BentoCache({
        default: 'redis',
        stores: { redis: bentostore().useL2Layer(redisDriver({ connection: new Redis(url) })) },
      });
      for (const key of keys) await bento.set({ key, value, ttl: TTL_MS });
      return {
        get: (key) => bento.getOrSet({ key, factory: compute, ttl: TTL_MS }),
        close: () => bento.disconnectAll(),
      };
    }
    case 'cacheable': {
      const cache = new Cacheable({ primary: createKeyv(url), ttl: TTL_MS });
      for (const key of keys) await cache.set(key, value);
      return {
        get: (key) => cache.getOrSet(key, async () => compute()),
        close: async () => void (await cache.disconnect()),
      };
    }
    default:
      throw new Error(`unknown contender ${name}`);
  }
}

const { get, close } = await contender();
let seed = 0x9e3779b9;
const next = () => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return keys[seed % KEYS] as string;
};

async function timed(ms: number): Promise<number> {
  let ops = 0;
  const started = performance.now();
  const deadline = started + ms;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < deadline) {
        const got = (await get(next())) as typeof value;
        if (got.id !== 1) throw new Error(`${name} returned a wrong value`);
        ops++;
      }
    }),
  );
  return (ops / (performance.now() - started)) * 1000;
}

await timed(Math.min(500, durationMs));
const opsPerSec = await timed(durationMs);
await close();
console.log(JSON.stringify({ name, opsPerSec }));
process.exit(0);
