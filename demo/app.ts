/**
 * One application instance of the menu service: its cache (L1, and L2 when Redis is configured), its
 * database connection, and the two endpoints' logic — `read` through `getOrLoad`, `write` through
 * `writeThrough`. It also keeps what the dashboard shows about it, and the switches scenarios flip.
 */
import { createHistogram } from 'node:perf_hooks';
import type { ChangeStream } from '../src/change-stream/change-stream.js';
import { type Cache, createCache, createMemcachedTier, createRedisTier, LoaderError } from '../src/index.js';
import { openChangeStream } from './change-stream.js';
import { OutageTier } from './outage-tier.js';
import type { ApiResult, InstanceSample } from './sample.js';
import type { Menu, MenuInput } from './store/menu.js';
import type { MenuStore } from './store/menu-store.js';
import { MeteredStore } from './store/metered-store.js';

/** How an instance is set up; plain data, so a parent process can hand it to a child. */
export interface AppConfig {
  /** `DATABASE_URL`: a SQLite path, `postgres://…` or `mysql://…`. */
  readonly database: string;
  readonly table: string;
  /** `REDIS_URL`: one server, or comma-separated cluster seeds; none for an L1-only cache. */
  readonly redis: string | undefined;
  /** `MEMCACHED_SERVERS`: comma-separated `host:port` of a Memcached pool (used instead of Redis). */
  readonly memcached: string | undefined;
  readonly ttlMs: number;
  readonly l1Entries: number;
  /** Added to every database query (a network round trip). */
  readonly dbDelayMs: number;
  /** Invalidate from the database's own change stream too (`--change-stream`). */
  readonly changeStream?: boolean;
}

/** The menu service of one instance. */
export class MenuApp {
  readonly cache: Cache;
  readonly store: MeteredStore;
  /** The L2, behind an outage switch; `undefined` without Redis. */
  readonly l2: OutageTier | undefined;
  /** The database's change stream, with `--change-stream`. */
  readonly changeStream: ChangeStream | undefined;
  /**
   * Stampede protections (single-flight, the distributed lock, early refresh, stale fallback). Off,
   * reads take the path most tutorials write: get, on a miss query the database, then set.
   */
  protections = true;
  /** A TTL that overrides the configured one (the "TTL too short" scenario). */
  ttlOverrideMs: number | undefined;
  readonly #ttlMs: number;
  readonly #latency = createHistogram();
  #requests = 0;
  #errors = 0;
  #lastError: string | undefined;

  constructor(config: AppConfig, store: MenuStore) {
    this.store = new MeteredStore(store, config.dbDelayMs);
    this.#ttlMs = config.ttlMs;
    if (config.memcached !== undefined) {
      const servers = config.memcached.split(',').map((server) => server.trim());
      this.l2 = OutageTier.around(
        createMemcachedTier({ servers, prefix: `tiercache-demo:${config.table}:`, timeout: '250ms' }),
      );
    } else if (config.redis !== undefined) {
      const seeds = config.redis.split(',').map((url) => url.trim());
      const client = seeds.length === 1 ? (seeds[0] as string) : seeds;
      this.l2 = OutageTier.around(
        createRedisTier({ client, prefix: `tiercache-demo:${config.table}:`, timeout: '250ms' }),
      );
    }
    this.cache = createCache({
      ttl: config.ttlMs,
      ttlJitter: 0.1,
      l1: { maxEntries: config.l1Entries },
      ...(this.l2 === undefined ? {} : { l2: this.l2 }),
      grace: '1h',
      graceBackoff: '2s',
      hardTimeout: '2s',
      maxConcurrentLoads: 1024,
      // The demo's load is a few thousand reads/s per key at most: a lower bar than the default 1,000/s.
      hotKeys: { minRate: 100, minShare: 0.01 },
      // A short window, so the dashboard's diagnosis follows a scenario within seconds.
      health: { threshold: 0.9, window: '12s', minRequests: 500 },
    });
    this.changeStream = config.changeStream ? openChangeStream(config.database, config.table, this.cache) : undefined;
    this.changeStream?.on('error', (error) => {
      this.#lastError = error.message;
    });
  }

  /** `GET /menus/:id`. */
  async read(id: number): Promise<ApiResult<Menu>> {
    const started = performance.now();
    this.#requests++;
    try {
      const menu = this.protections ? await this.#protectedRead(id) : await this.#naiveRead(id);
      return menu === null ? { status: 404, error: `no menu ${id}` } : { status: 200, body: menu };
    } catch (error) {
      this.#errors++;
      const cause = error instanceof LoaderError ? error.cause : error;
      this.#lastError = cause instanceof Error ? cause.message : String(cause);
      return { status: 503, error: this.#lastError };
    } finally {
      this.#latency.record(Math.max(1, Math.round((performance.now() - started) * 1e6)));
    }
  }

  #protectedRead(id: number): Promise<Menu | null> {
    const ttl = this.ttlOverrideMs;
    return this.cache.getOrLoad(`menu:${id}`, () => this.store.get(id), ttl === undefined ? undefined : { ttl });
  }

  async #naiveRead(id: number): Promise<Menu | null> {
    const key = `menu:${id}`;
    const cached = await this.cache.get<Menu | null>(key);
    if (cached !== undefined) return cached;
    const menu = await this.store.get(id);
    await this.cache.set(key, menu, { ttl: this.ttlOverrideMs ?? this.#ttlMs });
    return menu;
  }

  /** `PUT /menus/:id` with a validated body: the database first, then the cache and the other instances. */
  async write(id: number, input: MenuInput): Promise<ApiResult<Menu>> {
    const menu: Menu = { id, ...input, updatedAt: new Date().toISOString() };
    let found = true;
    try {
      await this.cache.writeThrough(`menu:${id}`, menu, async (m) => {
        found = await this.store.put(m);
        // Nothing to cache for a menu that does not exist: stop before the cache is touched.
        if (!found) throw new UnknownMenu();
      });
      return { status: 200, body: menu };
    } catch (error) {
      if (error instanceof UnknownMenu) return { status: 404, error: `no menu ${id}` };
      return { status: 503, error: error instanceof Error ? error.message : String(error) };
    }
  }

  /** This instance's report; unless `peek`, it also starts the next latency window. */
  sample(shed: number, peek = false): InstanceSample {
    const stats = this.cache.stats();
    const latency = this.#latency;
    const window = { requests: latency.count, p50Ms: ms(latency, 50), p99Ms: ms(latency, 99) };
    if (!peek) latency.reset();
    // The cache's own detector: estimated reads/s over its window, hottest first.
    const hot = this.cache.hotKeys().map((h) => [Number(h.key.slice('menu:'.length)), h.rate] as const);
    const diagnosis = stats.health?.diagnosis;
    return {
      at: Date.now(),
      requests: this.#requests,
      errors: this.#errors,
      shed,
      dbReads: this.store.reads,
      dbWrites: this.store.writes,
      hits: stats.hits,
      misses: stats.misses,
      l1Hits: stats.l1?.hits ?? 0,
      l1Misses: stats.l1?.misses ?? 0,
      l2Hits: stats.l2?.hits ?? 0,
      l2Misses: stats.l2?.misses ?? 0,
      l2Errors: stats.l2?.errors ?? 0,
      loads: stats.loads,
      collapsed: stats.collapsed,
      staleServed: stats.freshness.staleServed,
      refreshes: stats.freshness.refreshes,
      cold: stats.missCauses.cold,
      expired: stats.missCauses.expired,
      evicted: stats.missCauses.evicted,
      invalidated: stats.missCauses.invalidated,
      l1Entries: stats.l1?.entries ?? 0,
      window,
      topKeys: hot.slice(0, 10),
      lastError: this.#lastError,
      diagnosis: diagnosis === undefined ? undefined : { cause: diagnosis.cause, message: diagnosis.message },
      curve: stats.health?.curve ?? [],
      changeStream: this.changeStream?.stats(),
    };
  }

  async close(): Promise<void> {
    await this.changeStream?.close();
    await this.cache.close();
    await this.l2?.close();
    await this.store.inner.close();
  }
}

class UnknownMenu extends Error {}

const ms = (histogram: { count: number; percentile(p: number): number }, p: number): number =>
  histogram.count === 0 ? 0 : histogram.percentile(p) / 1e6;
