/**
 * A Keyv storage adapter over a tiercache cache (`tiercache/keyv`): anything that takes a Keyv store —
 * Keyv itself, cacheable, cache-manager v7's stores, Keyv-based libraries — can use tiercache's tiers
 * (W-TinyLFU L1, Redis or Memcached L2, invalidation between instances).
 *
 * Deliberate differences from a plain Keyv store:
 * - every entry has a TTL: a `set` without one (or with 0) takes the cache's default `ttl`;
 * - Keyv serializes values before they reach the store, so the cache holds Keyv's strings (its own
 *   expiry and all); tiercache's typed values do not come into play;
 * - a Keyv namespace is a tiercache namespace, so `clear()` clears that namespace only;
 * - `disconnect()` closes the cache (pass `{ closeCache: false }` to keep it open).
 *
 * Keyv is not imported: this module only has to look like its store.
 */
import { EventEmitter } from 'node:events';
import type { Cache } from '../cache/api.js';

/** Options of {@link TiercacheKeyvStore}. */
export interface TiercacheKeyvStoreOptions {
  /** Whether `disconnect()` closes the cache. Default: `true`. */
  readonly closeCache?: boolean;
}

/** Keyv's store interface, on a tiercache cache. */
export class TiercacheKeyvStore extends EventEmitter {
  /** Keyv reads its store's options. */
  readonly opts: { readonly dialect: 'tiercache'; readonly url: undefined };
  /** Set by Keyv when it has a namespace. */
  namespace: string | undefined;
  readonly #cache: Cache;
  readonly #views = new Map<string, Cache>();
  readonly #closeCache: boolean;

  constructor(cache: Cache, options: TiercacheKeyvStoreOptions = {}) {
    super();
    this.#cache = cache;
    this.#closeCache = options.closeCache ?? true;
    this.opts = { dialect: 'tiercache', url: undefined };
  }

  async get<Value>(key: string): Promise<Value | undefined> {
    return this.#view().get<Value>(key);
  }

  async getMany<Value>(keys: string[]): Promise<(Value | undefined)[]> {
    const view = this.#view();
    return Promise.all(keys.map((key) => view.get<Value>(key)));
  }

  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    // A Keyv TTL of 0 or none means "no expiry"; every tiercache entry expires: the cache's default.
    const options = typeof ttl === 'number' && ttl > 0 ? { ttl } : undefined;
    await this.#view().set(key, value, options);
    return true;
  }

  async setMany(entries: { key: string; value: unknown; ttl?: number }[]): Promise<void> {
    await Promise.all(entries.map(({ key, value, ttl }) => this.set(key, value, ttl)));
  }

  async delete(key: string): Promise<boolean> {
    const view = this.#view();
    const had = await view.has(key);
    await view.delete(key);
    return had;
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    const removed = await Promise.all(keys.map((key) => this.delete(key)));
    return removed.some(Boolean);
  }

  async has(key: string): Promise<boolean> {
    return this.#view().has(key);
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    const view = this.#view();
    return Promise.all(keys.map((key) => view.has(key)));
  }

  async clear(): Promise<void> {
    await this.#view().clear();
  }

  async disconnect(): Promise<void> {
    if (this.#closeCache) await this.#cache.close();
  }

  /** The cache, or its namespace view for Keyv's namespace. */
  #view(): Cache {
    const namespace = this.namespace;
    if (namespace === undefined || namespace === '') return this.#cache;
    let view = this.#views.get(namespace);
    if (view === undefined) {
      view = this.#cache.namespace(namespace);
      this.#views.set(namespace, view);
    }
    return view;
  }
}
