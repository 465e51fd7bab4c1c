/**
 * The facade: the read path (cache-aside `getOrLoad`) and the write path, over the tiers. Nothing here
 * knows how a tier stores things; it decides what to look up, who loads, and what to store.
 */

import type { BatchLoader, Cache, CacheEvents, HotKey, Loader, WriteOutcome } from './cache/api.js';
import * as batch from './cache/batch.js';
import { copiedOut, copyOut } from './cache/copy-out.js';
import * as missPath from './cache/miss-path.js';
import * as refresher from './cache/refresher.js';
import { View } from './cache/view.js';
import * as writePath from './cache/write-path.js';
import { CacheCore } from './core.js';
import { CacheClosedError, ConfigError } from './errors.js';
import { XFETCH_HORIZON, xfetchFires } from './freshness.js';
import type { HotKeyDetector } from './hotkeys/detector.js';
import { isShortKey, namespaceSegments, physicalKey, splitPhysicalKey } from './keys.js';
import { type MemoryTier, MISS } from './memory/memory-tier.js';
import { getOrLoadTracing, setTracing, type TraceContext } from './metrics/channels.js';
import { HIT_SAMPLE_EVERY } from './metrics/latency.js';
import { type CacheStats, type Counters, snapshot } from './metrics/stats.js';
import { callAheadMs, resolveOptions } from './options/resolve.js';
import type { CacheOptions, CallOptions } from './options.js';

/**
 * Key of an internal method (not public API) that lists each namespace's own counters, for exporters
 * that label metrics by namespace.
 */
export const NAMESPACE_COUNTERS: unique symbol = Symbol('tiercache.namespaceCounters');

const HIT_SAMPLE_MASK = HIT_SAMPLE_EVERY - 1;

/** A hot key's capped L1 copy is refreshed in the last fifth of its life. */
const HOT_AHEAD = 0.2;

class TierCache implements Cache {
  /** The namespace's state, shared with the paths in `cache/` (write path, …). */
  readonly #view: View;
  readonly #core: CacheCore;
  readonly #segments: readonly string[];
  readonly #prefix: string;
  /** The namespace path as a label: `/` for the root, `/users/v2` below it. */
  readonly #label: string;
  readonly #counters: Counters;
  // Copied from the core so the hit path reads fields of this object only.
  readonly #l1: MemoryTier | undefined;
  readonly #clock: { now(): number };
  readonly #maxKeyLength: number;
  readonly #copyOnRead: boolean;
  /** XFetch's beta (0: off) and random source. */
  readonly #beta: number;
  /** Refresh-ahead's window (0: off): hits closer than this to expiry may refresh. */
  readonly #aheadMs: number;
  /** A hot key's capped L1 copy is re-read when closer than this to its end (0: no cap). */
  readonly #hotAheadMs: number;
  readonly #graceMs: number;
  readonly #detector: HotKeyDetector | undefined;
  /** On average one read in this many feeds the hot-key detector. */
  readonly #sampleEvery: number;
  /** Reads until the next sample. */
  #untilSample: number;
  readonly #random: () => number;

  constructor(core: CacheCore, segments: readonly string[]) {
    const view = new View(core, segments);
    this.#view = view;
    this.#core = core;
    this.#segments = segments;
    this.#prefix = view.prefix;
    this.#label = view.label;
    this.#counters = view.counters;
    this.#l1 = core.l1;
    this.#clock = core.options.clock;
    this.#maxKeyLength = core.options.maxKeyLength;
    this.#copyOnRead = core.options.copyOnRead;
    this.#beta = core.options.beta;
    this.#aheadMs = core.options.refreshAhead?.windowMs ?? 0;
    this.#hotAheadMs = core.hot.l1TtlMs * HOT_AHEAD;
    this.#graceMs = core.options.graceMs;
    this.#detector = core.hot.detector;
    this.#sampleEvery = core.options.hotKeys?.sampleEvery ?? 0;
    // Off: a countdown that never reaches zero in practice (2⁵³ reads).
    this.#untilSample = this.#detector === undefined ? Number.MAX_SAFE_INTEGER : 1;
    this.#random = core.options.random;
  }

  getOrLoad<T>(key: string, loader: Loader<T>, options?: CallOptions): Promise<T> {
    if (getOrLoadTracing.start.hasSubscribers) {
      const context: TraceContext = { key, namespace: this.#label };
      return getOrLoadTracing.tracePromise(() => this.#getOrLoad(key, loader, options, context), context);
    }
    return this.#getOrLoad(key, loader, options, undefined);
  }

  #getOrLoad<T>(
    key: string,
    loader: Loader<T>,
    options: CallOptions | undefined,
    trace: TraceContext | undefined,
  ): Promise<T> {
    const core = this.#core;
    if (!isShortKey(key, this.#maxKeyLength) || typeof loader !== 'function' || core.closed) {
      const error = this.#argumentError(key) ?? loaderTypeError(loader);
      if (error !== undefined) return Promise.reject(error);
    }
    const physical = physicalKey(this.#prefix, key);
    const now = this.#clock.now();
    if (--this.#untilSample === 0) this.#sample(physical, now);
    const l1 = this.#l1;
    if (l1 !== undefined) {
      // One hit in HIT_SAMPLE_EVERY is timed (every flight owner is): the hit counter, about to be
      // bumped anyway, picks which — so the sample costs no state of its own.
      const latency = core.latency;
      const sampled = latency !== undefined && (this.#counters.l1Hits & HIT_SAMPLE_MASK) === HIT_SAMPLE_MASK;
      const started = sampled ? performance.now() : 0;
      const value = l1.get(physical, now);
      if (value !== MISS) {
        const freshUntil = l1.freshUntil;
        if (now < freshUntil) {
          this.#counters.l1Hits++;
          if (sampled) latency.getOrLoad('hit', started, this.#label);
          if (trace !== undefined) trace.outcome = 'hit';
          // XFetch draws only within XFETCH_HORIZON load times of expiry: elsewhere it cannot fire.
          const cost = l1.delta * this.#beta;
          const left = freshUntil - now;
          if (left < cost * XFETCH_HORIZON && xfetchFires(now, freshUntil, cost, this.#random)) {
            refresher.refreshEarly(this.#view, physical, key, loader, options, freshUntil, false);
          } else if (
            left < (options?.refreshAhead === undefined ? this.#aheadMs : callAheadMs(options.refreshAhead, value))
          ) {
            refresher.refreshAhead(this.#view, l1, physical, key, loader, options, freshUntil);
          } else if (left < this.#hotAheadMs && l1.expiresAt - this.#graceMs > freshUntil && core.hot.has(physical)) {
            // A hot key's L1 copy that the hot-key cap cut short (its entry lives on in L2): re-read it
            // before it lapses. A copy that ends with its own TTL is not re-read here — XFetch refreshes
            // it once, near expiry; re-reading it here would reload it back to back.
            refresher.refreshEarly(this.#view, physical, key, loader, options, freshUntil, false);
          }
          return this.#copyOnRead ? copiedOut(key, value as T) : Promise.resolve(value as T);
        }
        // Past its TTL, within grace: a miss, with a value fail-safe can serve.
        this.#counters.l1Misses++;
        return missPath.loadShared(this.#view, physical, key, loader, options, trace, now, {
          value,
          freshUntil,
          until: l1.expiresAt,
        });
      }
      this.#counters.l1Misses++;
    }
    return missPath.loadShared(this.#view, physical, key, loader, options, trace, now, undefined);
  }

  invalidateTags(tags: readonly string[]): Promise<number> {
    return writePath.invalidateTags(this.#view, tags);
  }

  getOrLoadMany<T>(
    keys: readonly string[],
    loadMany: BatchLoader<T>,
    options?: CallOptions,
  ): Promise<(T | undefined)[]> {
    return batch.getOrLoadMany(this.#view, keys, loadMany, options);
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    this.#check(key);
    const physical = physicalKey(this.#prefix, key);
    const now = this.#clock.now();
    if (--this.#untilSample === 0) this.#sample(physical, now);
    const l1 = this.#l1;
    const value = l1 === undefined ? MISS : l1.get(physical, now);
    if (value !== MISS && now < (l1 as MemoryTier).freshUntil) {
      this.#counters.l1Hits++;
      return (this.#copyOnRead ? copyOut(key, value) : value) as T;
    }
    if (l1 !== undefined) this.#counters.l1Misses++;
    const core = this.#core;
    const explanation = core.explainMiss(physical);
    if (core.options.l2 !== undefined) {
      const shared = await core.readShared(this.#counters, physical, key);
      if (shared !== MISS) {
        this.#counters.l2Hits++;
        return (this.#copyOnRead ? copyOut(key, shared) : shared) as T;
      }
    }
    core.recordMiss(this.#counters, explanation, now);
    return undefined;
  }

  async set<T>(key: string, value: T, options?: CallOptions): Promise<WriteOutcome> {
    if (setTracing.start.hasSubscribers) {
      return setTracing.tracePromise(() => writePath.write(this.#view, key, value, options), {
        key,
        namespace: this.#label,
      });
    }
    return writePath.write(this.#view, key, value, options);
  }

  delete(key: string): Promise<boolean> {
    return writePath.remove(this.#view, key);
  }

  expire(key: string): Promise<void> {
    return writePath.expire(this.#view, key);
  }

  writeThrough<T>(key: string, value: T, persist: (value: T) => unknown, options?: CallOptions): Promise<WriteOutcome> {
    return writePath.writeThrough(this.#view, key, value, persist, options);
  }

  async has(key: string): Promise<boolean> {
    return (await this.expiresAt(key)) !== undefined;
  }

  async expiresAt(key: string): Promise<number | undefined> {
    this.#check(key);
    const physical = physicalKey(this.#prefix, key);
    const l1 = this.#l1;
    const now = this.#clock.now();
    if (l1 !== undefined && l1.peek(physical, now) !== MISS && now < l1.freshUntil) return l1.freshUntil;
    const l2 = this.#core.options.l2;
    if (l2 === undefined) return undefined;
    const envelope = await l2.get(physical).catch(() => undefined);
    return envelope !== undefined && envelope.expiresAt > this.#clock.now() ? envelope.expiresAt : undefined;
  }

  clear(): Promise<void> {
    return writePath.clear(this.#view);
  }

  invalidationsSent(): Promise<void> {
    return this.#core.options.l2?.invalidationsSent?.() ?? Promise.resolve();
  }

  /**
   * Feeds one read to the detector and draws the gap to the next sample, uniform in
   * [1, 2 × sampleEvery − 1]: a fixed stride would alias with periodic access patterns (a loop reading
   * two keys in turn would only ever sample one of them).
   */
  #sample(physical: string, now: number): void {
    (this.#detector as HotKeyDetector).record(physical, now);
    this.#untilSample = 1 + Math.floor(this.#random() * (2 * this.#sampleEvery - 1));
  }

  hotKeys(): HotKey[] {
    const core = this.#core;
    const settings = core.options.hotKeys;
    if (core.hot.detector === undefined || settings === undefined) return [];
    const prefix = this.#prefix;
    const hot: HotKey[] = [];
    for (const estimate of core.hot.detector.hot(this.#clock.now(), settings.minRate, settings.minShare)) {
      if (prefix !== '' && !estimate.key.startsWith(prefix)) continue;
      const { namespace, key } = splitPhysicalKey(estimate.key);
      hot.push({ key, namespace: `/${namespace.join('/')}`, rate: estimate.rate, share: estimate.share });
    }
    return hot;
  }

  stats(): CacheStats {
    const core = this.#core;
    const now = this.#clock.now();
    const warning = core.health?.tick(now);
    if (warning !== undefined) core.events.emit('lowHitRate', warning);
    return snapshot(
      this.#label,
      core.namespaces.sumUnder(this.#segments),
      core.l1,
      core.options.l2 === undefined ? undefined : { name: core.options.l2.name, pending: core.unconfirmedKeys },
      core.invalidation.bus === undefined ? undefined : { ...core.invalidation.bus },
      core.flights.size,
      core.latency?.summaries(),
      core.health?.report(now, this.#segments),
    );
  }

  /** Each namespace's own counters (not including nested ones), by label. Internal. */
  [NAMESPACE_COUNTERS](): ReadonlyMap<string, Readonly<Counters>> {
    return this.#core.namespaces.byLabel();
  }

  on<E extends keyof CacheEvents>(event: E, listener: CacheEvents[E]): void {
    this.#core.events.on(event, listener);
  }

  off<E extends keyof CacheEvents>(event: E, listener: CacheEvents[E]): void {
    this.#core.events.off(event, listener);
  }

  async close(): Promise<void> {
    const core = this.#core;
    if (core.closed) return;
    core.closed = true;
    core.detach();
    core.flights.supersede();
    for (const controller of core.controllers) controller.abort(new CacheClosedError());
    core.controllers.clear();
    core.l1?.clear();
  }

  namespace(name: string): Cache {
    return new TierCache(this.#core, [...this.#segments, ...namespaceSegments(name)]);
  }

  /** @throws the key's error (too long, not a string, or not well-formed Unicode), or CacheClosedError. */
  #check(key: string): void {
    this.#view.check(key);
  }

  #argumentError(key: unknown): Error | undefined {
    return this.#view.argumentError(key);
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
