/**
 * One application instance in its own OS process, for multi-process tests: a cache over a Redis (or
 * Redis Cluster) shared tier, driven by its parent over IPC.
 *
 * Commands: `stampede` (N concurrent getOrLoad of one key, loader of given ms), `load` (getOrLoad once),
 * `set`, `delete`, `waitFor` (poll `get` until it returns a value), `read` (getOrLoad one key from
 * `concurrency` loops for `ms`), `stats`.
 */
import { createCache, createMemcachedTier, createRedisTier } from '../../src/index.js';

interface Command {
  id: number;
  op: 'stampede' | 'load' | 'set' | 'delete' | 'waitFor' | 'read' | 'stats';
  ms?: number;
  key?: string;
  value?: unknown;
  concurrency?: number;
  loaderMs?: number;
}

const target = JSON.parse(process.argv[2] as string) as {
  url?: string;
  urls?: string[];
  /** `false`: no L1, every read goes to Redis. */
  l1?: false;
  hotKeys?: false;
  /** Memcached servers: the shared tier is a Memcached pool instead of Redis. */
  memcached?: string[];
};
// The tier owns its client: a URL for a server, seed URLs for a cluster.
const l2 =
  target.memcached !== undefined
    ? createMemcachedTier({ servers: target.memcached, timeout: '1s' })
    : createRedisTier({ client: target.urls ?? (target.url as string), timeout: '1s' });
const cache = createCache({
  ttl: '1m',
  l2,
  ...(target.l1 === false ? { l1: false as const } : {}),
  ...(target.hotKeys === false ? { hotKeys: false as const } : {}),
});
let loaderCalls = 0;

async function handle(command: Command): Promise<unknown> {
  const key = command.key as string;
  switch (command.op) {
    case 'stampede': {
      const loader = async () => {
        loaderCalls++;
        await new Promise((resolve) => setTimeout(resolve, command.loaderMs ?? 50));
        return `value from ${process.pid}`;
      };
      const started = performance.now();
      const latencies: number[] = [];
      const values = await Promise.all(
        Array.from({ length: command.concurrency ?? 1 }, async () => {
          const value = await cache.getOrLoad(key, loader);
          latencies.push(performance.now() - started);
          return value;
        }),
      );
      return { loaderCalls, distinct: [...new Set(values)], latencies };
    }
    case 'load':
      return cache.getOrLoad(key, async () => {
        loaderCalls++;
        return command.value;
      });
    case 'set':
      await cache.set(key, command.value);
      return Date.now();
    case 'delete':
      await cache.delete(key);
      return Date.now();
    case 'waitFor': {
      // Poll the cache (L1 first) until it stops answering with the old value.
      for (;;) {
        const value = await cache.get(key);
        if (JSON.stringify(value) === JSON.stringify(command.value)) return Date.now();
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    case 'read': {
      const until = Date.now() + (command.ms ?? 1000);
      let reads = 0;
      let errors = 0;
      const loader = async () => {
        loaderCalls++;
        return command.value;
      };
      await Promise.all(
        Array.from({ length: command.concurrency ?? 8 }, async () => {
          while (Date.now() < until) {
            await cache.getOrLoad(key, loader).then(
              () => reads++,
              () => errors++,
            );
          }
        }),
      );
      return { reads, errors, hot: cache.hotKeys().map((h) => h.key) };
    }
    case 'stats':
      return { ...cache.stats(), loaderCalls };
    default:
      throw new Error(`unknown op ${command.op}`);
  }
}

process.on('message', (command: Command) => {
  handle(command).then(
    (result) => process.send?.({ id: command.id, result }),
    (error: Error) => process.send?.({ id: command.id, error: error.message }),
  );
});
// Ready once the bus subscription is up, so no notification can be missed.
await l2.waitForFill('\u0000warm-up', 1);
process.send?.({ ready: true });
process.on('disconnect', () => {
  void cache
    .close()
    .then(() => l2.close())
    .then(() => process.exit(0));
});
