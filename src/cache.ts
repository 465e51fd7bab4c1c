/**
 * The facade: the read path (cache-aside `getOrLoad`) and the write path, over the tiers. Nothing here
 * knows how a tier stores things; it decides what to look up, who loads, and what to store.
 */
import { CacheClosedError, ConfigError, InvalidValueError, LoaderError, ValueTooLargeError } from './errors.js';
import { checkNamespaceName, isShortKey, keyError, malformedKeyError, namespacePrefix, physicalKey } from './keys.js';
import { MemoryTier, MISS } from './memory/memory-tier.js';
import { type CacheStats, Counters, snapshot } from './metrics/stats.js';
import {
  type CacheOptions,
  type CallOptions,
  type Duration,
  parseDuration,
  type ResolvedOptions,
  resolveCallOptions,
  resolveOptions,
  type WriteSettings,
} from './options.js';
import { type Flight, SingleFlight } from './stampede/single-flight.js';

/** What a loader is given. */
export interface LoaderContext {
  /** The caller's key (without any namespace). */
  readonly key: string;
  /** Aborted when the cache closes; pass it to your database driver or `fetch`. */
  readonly signal: AbortSignal;
  /**
   * Overrides the TTL of the value being loaded, e.g. from a row's own freshness. Validated like the
   * `ttl` option; an invalid TTL throws a `ConfigError` inside the loader.
   */
  setTtl(ttl: Duration): void;
}

/**
 * Produces the value for a key on a miss — typically a database query. Returning `undefined` caches
 * nothing (the next call loads again); returning `null` caches the absence for `nullTtl`.
 */
export type Loader<T> = (context: LoaderContext) => T | Promise<T>;

/** A cache, or an isolated namespace view of one. Every method is safe to call concurrently. */
export interface Cache {
  /**
   * Cache-aside read: the cached value if there is one, else the loader's, which is then cached.
   * Concurrent calls for one key run the loader once and share its outcome.
   *
   * Values come back **by reference** (the object the cache holds) unless the cache was created with
   * `copyOnRead: true`; do not mutate them.
   *
   * @throws InvalidKeyError (as a rejection) for an invalid key.
   * @throws LoaderError when the loader throws; nothing is cached and the next call retries.
   * @throws CacheClosedError after `close()`.
   */
  getOrLoad<T>(key: string, loader: Loader<T>, options?: CallOptions): Promise<T>;
  /** The cached value, or `undefined`. Never loads. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /**
   * Caches a value. A load of the key already in flight will not overwrite it.
   * @throws InvalidValueError for `undefined` (use `delete`); ValueTooLargeError over `maxEntryBytes`
   *   (any older value is removed, so a refused write never leaves the previous one in place).
   */
  set<T>(key: string, value: T, options?: CallOptions): Promise<void>;
  /** Removes a key. A load of the key already in flight will not store its result. @returns whether it was cached. */
  delete(key: string): Promise<boolean>;
  /** Whether a live value is cached for the key. Does not count as a read. */
  has(key: string): Promise<boolean>;
  /** Removes every key of this namespace — on the root cache, every key of every namespace. */
  clear(): Promise<void>;
  /** Counters since creation, shared by the cache and all its namespaces. */
  stats(): CacheStats;
  /** Aborts loads in flight (through their `signal`), drops the memory tier, and refuses further calls. */
  close(): Promise<void>;
  /** An isolated view: its keys never meet the keys of the parent or of other namespaces. Nestable. */
  namespace(name: string): Cache;
}

/** State shared by a cache and its namespace views. */
class CacheCore {
  readonly options: ResolvedOptions;
  readonly l1: MemoryTier | undefined;
  readonly flights = new SingleFlight<unknown>();
  readonly counters = new Counters();
  readonly controllers = new Set<AbortController>();
  closed = false;

  constructor(options: ResolvedOptions) {
    this.options = options;
    this.l1 = options.l1 === false ? undefined : new MemoryTier(options.l1, options.random);
  }

  /** Returns the value the cache keeps for one written by a caller: itself, or a private clone. */
  ownCopy(key: string, value: unknown): unknown {
    if (!this.options.copyOnRead) return value;
    try {
      return structuredClone(value);
    } catch (cause) {
      throw new InvalidValueError(key, 'copyOnRead is on and the value cannot be structured-cloned.', cause);
    }
  }

  /**
   * Stores a value in the tiers with the TTL the settings give it.
   * @returns `false` when the value weighs more than `maxEntryBytes` (counted; older value dropped).
   */
  store(physical: string, key: string, value: unknown, settings: WriteSettings, ttlOverride?: number): boolean {
    const { options, l1 } = this;
    const weight = options.weigher(value);
    if (typeof weight !== 'number' || !(weight >= 0)) {
      throw new InvalidValueError(key, `the weigher returned ${String(weight)}; it must return a number ≥ 0.`);
    }
    if (weight > options.maxEntryBytes) {
      this.counters.refusedTooLarge++;
      l1?.delete(physical);
      throw new ValueTooLargeError(key, weight, options.maxEntryBytes);
    }
    if (l1 === undefined) return true;
    let ttl = ttlOverride ?? (value === null ? settings.nullTtl : settings.ttl);
    if (settings.ttlJitter > 0) ttl *= 1 + settings.ttlJitter * (2 * options.random() - 1);
    const now = options.clock.now();
    l1.set(physical, this.ownCopy(key, value), weight, now + ttl, now);
    return true;
  }
}

class TierCache implements Cache {
  readonly #core: CacheCore;
  readonly #segments: readonly string[];
  readonly #prefix: string;

  constructor(core: CacheCore, segments: readonly string[]) {
    this.#core = core;
    this.#segments = segments;
    this.#prefix = namespacePrefix(segments);
  }

  getOrLoad<T>(key: string, loader: Loader<T>, options?: CallOptions): Promise<T> {
    const core = this.#core;
    const { maxKeyLength, copyOnRead } = core.options;
    if (!isShortKey(key, maxKeyLength) || typeof loader !== 'function' || core.closed) {
      const error = this.#argumentError(key) ?? loaderTypeError(loader);
      if (error !== undefined) return Promise.reject(error);
    }
    const physical = physicalKey(this.#prefix, key);
    const l1 = core.l1;
    if (l1 !== undefined) {
      const value = l1.get(physical, core.options.clock.now());
      if (value !== MISS) {
        core.counters.l1Hits++;
        return Promise.resolve((copyOnRead ? structuredClone(value) : value) as T);
      }
      core.counters.l1Misses++;
    }
    core.counters.misses++;
    return this.#loadShared(physical, key, loader, options);
  }

  /** The miss path: join the key's flight, or start one. */
  #loadShared<T>(physical: string, key: string, loader: Loader<T>, options: CallOptions | undefined): Promise<T> {
    const core = this.#core;
    const existing = core.flights.get(physical) as Flight<T> | undefined;
    let flight: Flight<T>;
    if (existing !== undefined) {
      core.counters.collapsed++;
      flight = existing;
    } else {
      let settings: WriteSettings;
      try {
        const malformed = malformedKeyError(key);
        if (malformed !== undefined) throw malformed;
        settings = resolveCallOptions(core.options, options);
      } catch (error) {
        return Promise.reject(error);
      }
      flight = core.flights.start(physical, (own) => this.#load(own, physical, key, loader, settings)) as Flight<T>;
    }
    // Each caller gets its own clone when copyOnRead is on; they share one promise otherwise.
    return core.options.copyOnRead ? flight.promise.then(structuredClone) : flight.promise;
  }

  async #load<T>(
    flight: Flight<unknown>,
    physical: string,
    key: string,
    loader: Loader<T>,
    settings: WriteSettings,
  ): Promise<T> {
    const core = this.#core;
    // Look again now that this call owns the flight: with a remote tier between the miss and here,
    // another flight may have filled the key meanwhile (groupcache's load() does the same).
    const filled = core.l1 === undefined ? MISS : core.l1.peek(physical, core.options.clock.now());
    if (filled !== MISS) return filled as T;

    const controller = new AbortController();
    core.controllers.add(controller);
    let ttlOverride: number | undefined;
    const context: LoaderContext = {
      key,
      signal: controller.signal,
      setTtl(ttl: Duration) {
        ttlOverride = parseDuration(ttl, 'setTtl');
      },
    };
    core.counters.loads++;
    let value: T;
    try {
      value = await loader(context);
    } catch (cause) {
      core.counters.loadErrors++;
      throw new LoaderError(key, cause);
    } finally {
      core.controllers.delete(controller);
    }
    if (value === undefined || core.closed) return value;
    if (flight.superseded) {
      core.counters.superseded++;
      return value;
    }
    try {
      core.store(physical, key, value, settings, ttlOverride);
    } catch (error) {
      // The caller still gets what the loader produced; a value the cache cannot keep is counted, not fatal.
      if (!(error instanceof ValueTooLargeError || error instanceof InvalidValueError)) throw error;
    }
    return value;
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    const core = this.#core;
    this.#check(key);
    const value = core.l1 === undefined ? MISS : core.l1.get(physicalKey(this.#prefix, key), core.options.clock.now());
    if (value !== MISS) {
      core.counters.l1Hits++;
      return (core.options.copyOnRead ? structuredClone(value) : value) as T;
    }
    if (core.l1 !== undefined) core.counters.l1Misses++;
    core.counters.misses++;
    return undefined;
  }

  async set<T>(key: string, value: T, options?: CallOptions): Promise<void> {
    const core = this.#core;
    this.#check(key);
    const malformed = malformedKeyError(key);
    if (malformed !== undefined) throw malformed;
    if (value === undefined) {
      throw new InvalidValueError(key, 'undefined cannot be cached; call delete(key) to remove a value.');
    }
    const settings = resolveCallOptions(core.options, options);
    const physical = physicalKey(this.#prefix, key);
    core.flights.supersedeKey(physical);
    core.store(physical, key, value, settings);
  }

  async delete(key: string): Promise<boolean> {
    const core = this.#core;
    this.#check(key);
    const physical = physicalKey(this.#prefix, key);
    core.flights.supersedeKey(physical);
    return core.l1?.delete(physical) ?? false;
  }

  async has(key: string): Promise<boolean> {
    const core = this.#core;
    this.#check(key);
    return core.l1 !== undefined && core.l1.peek(physicalKey(this.#prefix, key), core.options.clock.now()) !== MISS;
  }

  async clear(): Promise<void> {
    const core = this.#core;
    if (core.closed) throw new CacheClosedError();
    const prefix = this.#prefix;
    if (prefix === '') {
      core.flights.supersede();
      core.l1?.clear();
      return;
    }
    const inNamespace = (physical: string) => physical.startsWith(prefix);
    core.flights.supersede(inNamespace);
    core.l1?.deleteWhere(inNamespace);
  }

  stats(): CacheStats {
    const core = this.#core;
    return snapshot(core.counters, core.l1, core.flights.size);
  }

  async close(): Promise<void> {
    const core = this.#core;
    if (core.closed) return;
    core.closed = true;
    core.flights.supersede();
    for (const controller of core.controllers) controller.abort(new CacheClosedError());
    core.controllers.clear();
    core.l1?.clear();
  }

  namespace(name: string): Cache {
    return new TierCache(this.#core, [...this.#segments, checkNamespaceName(name)]);
  }

  /** @throws the key's error, or CacheClosedError. */
  #check(key: string): void {
    const error = this.#argumentError(key);
    if (error !== undefined) throw error;
  }

  #argumentError(key: unknown): Error | undefined {
    const core = this.#core;
    if (core.closed) return new CacheClosedError(typeof key === 'string' ? key : undefined);
    return isShortKey(key, core.options.maxKeyLength) ? undefined : keyError(key, core.options.maxKeyLength);
  }
}

function loaderTypeError(loader: unknown): ConfigError | undefined {
  return typeof loader === 'function'
    ? undefined
    : new ConfigError('loader', `getOrLoad needs a loader function (context) => value, got ${typeof loader}.`);
}

/**
 * Creates a cache. Options are validated here, once; a wrong option throws a {@link ConfigError} that
 * names it.
 *
 * @example
 * const cache = createCache({ ttl: '5m', l1: { maxEntries: 50_000 } });
 * const menu = await cache.getOrLoad(`menu:${id}`, () => db.menu(id));
 */
export function createCache(options: CacheOptions): Cache {
  return new TierCache(new CacheCore(resolveOptions(options)), []);
}
