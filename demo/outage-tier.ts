/**
 * A shared tier with an off switch, for the "Redis outage" scenario: while `down`, every call fails at
 * once as a refused connection would, so the cache's timeouts, breaker and fall-through to the loader
 * do what they would in a real outage — without stopping a Redis server other processes may share.
 */
import { type SharedTier, TierUnavailableError } from '../src/index.js';

type Tier = SharedTier;

/** The capability methods, forwarded only when the wrapped tier has them. */
const OPTIONAL_METHODS = [
  'getVersioned',
  'version',
  'setIfVersion',
  'expire',
  'writeIfVersion',
  'tagKeys',
  'fenceTags',
  'tagEpoch',
  'takeTag',
  'setHotKeys',
  'tryLock',
  'waitForFill',
  'announceFill',
  'publishInvalidation',
  'onInvalidation',
  'invalidationsSent',
  'onError',
] as const;

/**
 * Wraps `inner`; flip `down` to simulate an outage. Every method the inner tier has is forwarded — one
 * left out would silently turn its feature off behind the wrapper (build it with {@link OutageTier.around}).
 */
export class OutageTier implements Tier {
  readonly name: string;
  readonly l1FreshnessMs: number | undefined;
  down = false;
  readonly #inner: Tier;

  constructor(inner: Tier) {
    this.#inner = inner;
    this.name = inner.name;
    this.l1FreshnessMs = inner.l1FreshnessMs;
  }

  /** Wraps `inner`, keeping only the capabilities it has (a Memcached tier has no tags, no bus). */
  static around(inner: Tier): OutageTier {
    const wrapper = new OutageTier(inner);
    for (const method of OPTIONAL_METHODS) {
      if (inner[method] === undefined) delete (wrapper as unknown as Partial<Record<string, unknown>>)[method];
    }
    return wrapper;
  }

  #check(): void {
    if (this.down) throw new TierUnavailableError(this.name, 'connection refused (demo outage scenario)');
  }

  get: Tier['get'] = async (key) => {
    this.#check();
    return this.#inner.get(key);
  };
  set: Tier['set'] = async (key, envelope, ttlMs) => {
    this.#check();
    return this.#inner.set(key, envelope, ttlMs);
  };
  delete: Tier['delete'] = async (key) => {
    this.#check();
    return this.#inner.delete(key);
  };
  clear: Tier['clear'] = async (prefix) => {
    this.#check();
    return this.#inner.clear(prefix);
  };
  close: Tier['close'] = () => this.#inner.close();
  getVersioned: Tier['getVersioned'] = async (key) => {
    this.#check();
    return (this.#inner.getVersioned as NonNullable<Tier['getVersioned']>)(key);
  };
  version: Tier['version'] = async (key) => {
    this.#check();
    return (this.#inner.version as NonNullable<Tier['version']>)(key);
  };
  setIfVersion: Tier['setIfVersion'] = async (key, envelope, ttlMs, version, fence) => {
    this.#check();
    return (this.#inner.setIfVersion as NonNullable<Tier['setIfVersion']>)(key, envelope, ttlMs, version, fence);
  };
  expire: Tier['expire'] = async (key, at) => {
    this.#check();
    return (this.#inner.expire as NonNullable<Tier['expire']>)(key, at);
  };
  writeIfVersion: Tier['writeIfVersion'] = async (key, envelope, ttlMs, version) => {
    this.#check();
    return (this.#inner.writeIfVersion as NonNullable<Tier['writeIfVersion']>)(key, envelope, ttlMs, version);
  };
  tagKeys: Tier['tagKeys'] = async (tag, keys, ttlMs) => {
    this.#check();
    return this.#inner.tagKeys?.(tag, keys, ttlMs);
  };
  fenceTags: Tier['fenceTags'] = async (tags, key, ttlMs, tagEpoch) => {
    this.#check();
    return (this.#inner.fenceTags as NonNullable<Tier['fenceTags']>)(tags, key, ttlMs, tagEpoch);
  };
  tagEpoch: Tier['tagEpoch'] = async () => {
    this.#check();
    return (this.#inner.tagEpoch as NonNullable<Tier['tagEpoch']>)();
  };
  takeTag: Tier['takeTag'] = async (tag) => {
    this.#check();
    return (await this.#inner.takeTag?.(tag)) ?? { removed: [], unconfirmed: [] };
  };
  setHotKeys: Tier['setHotKeys'] = (keys) => this.#inner.setHotKeys?.(keys);
  tryLock: Tier['tryLock'] = async (key, ttlMs) => {
    this.#check();
    return this.#inner.tryLock?.(key, ttlMs);
  };
  waitForFill: Tier['waitForFill'] = async (key, timeoutMs) => {
    if (this.down) return;
    return this.#inner.waitForFill?.(key, timeoutMs);
  };
  announceFill: Tier['announceFill'] = async (key) => {
    if (!this.down) await this.#inner.announceFill?.(key);
  };
  publishInvalidation: Tier['publishInvalidation'] = (message) => this.#inner.publishInvalidation?.(message);
  onError: Tier['onError'] = (listener) => this.#inner.onError?.(listener) ?? (() => {});
  /** The inner tier's `ready()`, if it has one (the demo does not wait on it). */
  ready = (timeoutMs?: number): Promise<void> =>
    (this.#inner as { ready?: (ms?: number) => Promise<void> }).ready?.(timeoutMs) ?? Promise.resolve();
  onInvalidation: Tier['onInvalidation'] = (handler, origin) =>
    this.#inner.onInvalidation?.(handler, origin) ?? (() => {});
  invalidationsSent: Tier['invalidationsSent'] = () => this.#inner.invalidationsSent?.() ?? Promise.resolve();
}
