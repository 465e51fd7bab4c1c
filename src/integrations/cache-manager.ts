/**
 * cache-manager v7's `Cache` on a tiercache cache (`tiercache/cache-manager`), so code written against
 * cache-manager — NestJS's `CacheModule` users, `CacheInterceptor`, `@Inject(CACHE_MANAGER)` — gets the
 * cache's tiers and, through `wrap`, its single-flight across processes, fenced stores and fail-safe.
 *
 * ```ts
 * const manager = createCacheManager(createCache({ ttl: '5m', l2: createRedisTier({ client: url }) }));
 * await manager.wrap(`menu:${id}`, () => db.menu(id), 60_000, 10_000);
 * ```
 *
 * How cache-manager's calls map:
 * - `wrap(key, fn, ttl, refreshThreshold)` is `getOrLoad`: one load per key across every instance (the
 *   lock), not one per process; `ttl` as a function is applied to the loaded value (`setTtl`), and
 *   `refreshThreshold` (a number or a function of the cached value) is the call's refresh-ahead window;
 *   `refresh` events report those background reloads;
 * - what `wrap`'s function throws reaches the caller as it is (not wrapped in a `LoaderError`);
 * - `get`/`mget` never throw: like cache-manager, a failure is an event (`get` / `mget` with `error`)
 *   and an `undefined`; `set`, `del`, `clear` reject on failure, and emit it;
 * - `ttl(key)` is the expiry timestamp in epoch ms (`cache.expiresAt`), `undefined` when nothing is cached.
 *
 * Deliberate differences (each follows from a rule of tiercache's):
 * - every entry expires: a `ttl` of 0 or none takes the manager's `ttl`, else the cache's default;
 * - `set(key, undefined)` rejects (`InvalidValueError`: delete the key instead), and a `wrap` whose
 *   function returns `undefined` caches nothing;
 * - keys are tiercache keys (non-empty, at most `maxKeyLength`); values go to the shared tier as
 *   tiercache's typed JSON, so a class instance stays in the L1 only (the cache's `error` event says so);
 * - `stores` is empty: there is no Keyv store underneath (use `tiercache/keyv` to hand tiercache to
 *   Keyv); `nonBlocking` and `refreshAllStores` have nothing to act on;
 * - `disconnect()` closes the cache (pass `closeCache: false` to keep it open), as does NestJS's
 *   `onModuleDestroy`.
 *
 * cache-manager is not imported at run time: only its types are used.
 */
import { EventEmitter } from 'node:events';
import type { Cache as CacheManager, Events as CacheManagerEvents } from 'cache-manager';
import type { Cache, LoaderContext } from '../cache/api.js';
import { LoaderError } from '../errors.js';
import type { CallOptions } from '../options.js';

/** The name cache-manager's events give the one store (its first store is `'primary'`). */
const STORE = 'primary';

/** Options of {@link createCacheManager}. */
export interface CacheManagerOptions {
  /** TTL in ms of a `set`, `mset` or `wrap` that gives none (cache-manager's `ttl`). Default: the cache's `ttl`. */
  readonly ttl?: number;
  /** `refreshThreshold` in ms of a `wrap` that gives none. Default: none. */
  readonly refreshThreshold?: number;
  /** What `cacheId()` answers. Default: a random id. */
  readonly cacheId?: string;
  /** Whether `disconnect()` (and NestJS's `onModuleDestroy`) closes the cache. Default: `true`. */
  readonly closeCache?: boolean;
}

/** cache-manager's `Cache`, plus the hook NestJS calls when the module holding it is destroyed. */
export type TiercacheManager = CacheManager & {
  /** Called by NestJS on shutdown: {@link CacheManager.disconnect}. */
  onModuleDestroy(): Promise<void>;
};

type TtlOption<T> = number | ((value: T) => number) | undefined;
interface WrapOptions<T> {
  ttl?: TtlOption<T>;
  refreshThreshold?: TtlOption<T>;
  raw?: boolean;
}

/**
 * A cache-manager v7 `Cache` over `cache`. For NestJS, see {@link cacheManagerModule}.
 */
export function createCacheManager(cache: Cache, options: CacheManagerOptions = {}): TiercacheManager {
  const events = new EventEmitter();
  const id = options.cacheId ?? Math.random().toString(36).slice(2);
  const defaultTtl = options.ttl;
  const closeCache = options.closeCache ?? true;
  const emit = (event: keyof CacheManagerEvents | 'ttl' | 'mdel', data?: unknown) => {
    events.emit(event, data);
  };
  /** The call options of a write with cache-manager's `ttl` (ms; 0 or none: the default). */
  const writeOptions = (ttl: number | undefined): CallOptions | undefined => {
    const given = ttl === undefined || ttl === 0 ? defaultTtl : ttl;
    return given === undefined ? undefined : { ttl: given };
  };
  const set = async <T>(key: string, value: T, ttl?: number): Promise<T> => {
    try {
      await cache.set(key, value, writeOptions(ttl));
    } catch (error) {
      emit('set', { key, value, error });
      throw error;
    }
    // cache-manager emits once per store (naming it), then once for the call.
    emit('set', { key, value, store: STORE });
    emit('set', { key, value });
    return value;
  };
  const disconnect = async (): Promise<undefined> => {
    if (closeCache) await cache.close();
    return undefined;
  };

  function wrap<T>(
    key: string,
    fn: () => T | Promise<T>,
    ttlOrOptions?: TtlOption<T> | WrapOptions<T>,
    refreshThreshold?: TtlOption<T>,
  ): Promise<T>;
  async function wrap<T>(
    key: string,
    fn: () => T | Promise<T>,
    ttlOrOptions?: TtlOption<T> | WrapOptions<T>,
    thresholdArgument?: TtlOption<T>,
  ): Promise<unknown> {
    const given: WrapOptions<T> =
      typeof ttlOrOptions === 'object' && ttlOrOptions !== null
        ? ttlOrOptions
        : { ttl: ttlOrOptions, refreshThreshold: thresholdArgument };
    const { ttl, raw } = given;
    const threshold = given.refreshThreshold ?? options.refreshThreshold;
    const call: CallOptions = {
      ...(typeof ttl === 'number' ? writeOptions(ttl) : writeOptions(undefined)),
      ...(threshold === undefined ? {} : { refreshAhead: { window: threshold, minReads: 1 } }),
    };
    const loader = async (context: LoaderContext): Promise<T> => {
      let value: T;
      try {
        value = await fn();
      } catch (error) {
        if (context.refreshing) emit('refresh', { key, value: undefined, error });
        throw error;
      }
      if (typeof ttl === 'function' && value !== undefined) context.setTtl(ttl(value));
      if (context.refreshing) emit('refresh', { key, value });
      return value;
    };
    let value: T;
    try {
      value = await cache.getOrLoad(key, loader, call);
    } catch (error) {
      // cache-manager's callers catch what their function threw (a NestJS NotFoundException…), as it is.
      throw error instanceof LoaderError ? error.cause : error;
    }
    if (raw !== true) return value;
    return { value, expires: (await cache.expiresAt(key)) ?? Date.now() };
  }

  const manager: TiercacheManager = {
    async get<T>(key: string): Promise<T | undefined> {
      try {
        const value = await cache.get<T>(key);
        // As cache-manager: an event for a value found (by the one "store"), none for a miss.
        if (value !== undefined) emit('get', { key, value, store: STORE });
        return value;
      } catch (error) {
        emit('get', { key, error, store: STORE });
        return undefined;
      }
    },
    async mget<T>(keys: string[]): Promise<(T | undefined)[]> {
      const values = await Promise.all(keys.map((key) => cache.get<T>(key).catch(() => undefined)));
      emit('mget', { keys, values });
      return values;
    },
    async ttl(key: string): Promise<number | undefined> {
      try {
        return await cache.expiresAt(key);
      } catch (error) {
        emit('ttl', { key, error });
        return undefined;
      }
    },
    set,
    async mset<T>(list: { key: string; value: T; ttl?: number }[]) {
      const written = list.map(({ key, value, ttl }) => ({ key, value, ttl: ttl ?? defaultTtl }));
      try {
        await Promise.all(list.map(({ key, value, ttl }) => cache.set(key, value, writeOptions(ttl))));
      } catch (error) {
        emit('mset', { list: written, error });
        throw error;
      }
      emit('mset', { list: written });
      return written;
    },
    async del(key: string): Promise<boolean> {
      try {
        await cache.delete(key);
      } catch (error) {
        emit('del', { key, error });
        throw error;
      }
      emit('del', { key });
      return true;
    },
    async mdel(keys: string[]): Promise<boolean> {
      try {
        await Promise.all(keys.map((key) => cache.delete(key)));
      } catch (error) {
        emit('mdel', { keys, error });
        throw error;
      }
      emit('mdel', { keys });
      return true;
    },
    async clear(): Promise<boolean> {
      try {
        await cache.clear();
      } catch (error) {
        emit('clear', error);
        throw error;
      }
      emit('clear');
      return true;
    },
    wrap: wrap as CacheManager['wrap'],
    on: (event, listener) => events.addListener(event, listener),
    off: (event, listener) => events.removeListener(event, listener),
    disconnect,
    onModuleDestroy: async () => {
      await disconnect();
    },
    cacheId: () => id,
    stores: [],
  };
  return manager;
}

/** The token NestJS's `@nestjs/cache-manager` injects the cache manager by (`CACHE_MANAGER`). */
export const CACHE_MANAGER = 'CACHE_MANAGER';

/** A NestJS dynamic module's shape, as far as {@link cacheManagerModule} fills it in. */
export interface CacheManagerModule {
  // (Mutable arrays and a plain constructor: what Nest's `DynamicModule` accepts.)
  module: new () => object;
  global: boolean;
  providers: { provide: string; useValue: TiercacheManager }[];
  exports: string[];
}

/** The class NestJS registers the module under. */
class TiercacheCacheModule {}

/**
 * A global NestJS module providing {@link createCacheManager}'s manager as `CACHE_MANAGER`: import it
 * instead of `CacheModule.register(…)`, and `CacheInterceptor`, `@CacheKey`, `@CacheTTL` and
 * `@Inject(CACHE_MANAGER)` from `@nestjs/cache-manager` work unchanged. NestJS is not imported: the
 * module is the plain object its `DynamicModule` type describes.
 * @example
 * @Module({ imports: [cacheManagerModule(cache)], controllers: [MenusController] })
 * export class AppModule {}
 */
export function cacheManagerModule(cache: Cache, options: CacheManagerOptions = {}): CacheManagerModule {
  return {
    module: TiercacheCacheModule,
    global: true,
    providers: [{ provide: CACHE_MANAGER, useValue: createCacheManager(cache, options) }],
    exports: [CACHE_MANAGER],
  };
}
