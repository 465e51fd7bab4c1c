/**
 * Where the tiers are touched (with `cache/shared-write.ts`, the fenced L2 write): the state a cache and
 * all its namespace views share (tiers, flights, health, the write repair) and the tier-facing steps of
 * the read and write paths — miss accounting, the L2 read with its L1 fill, the L1 store. Small owners
 * hold the rest: the hot set (`cache/hot-set.ts`), the bus (`cache/invalidation.ts`), tags
 * (`cache/tags.ts`, `cache/tag-index.ts`), namespace counters (`cache/namespace-counters.ts`), the
 * miss-ratio curve (`metrics/miss-ratio-curve.ts`). The facade and the paths in `cache/` decide what to
 * do; this module knows how each step touches the tiers.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { HotSet } from './cache/hot-set.js';
import { Invalidation } from './cache/invalidation.js';
import type { Written } from './cache/jobs.js';
import { NamespaceCounters } from './cache/namespace-counters.js';
import { WriteRepair } from './cache/repair.js';
import { Simulations } from './cache/simulations.js';
import { TagIndex } from './cache/tag-index.js';
import type { Envelope } from './entry.js';
import { InvalidValueError, type TierCacheError, TierUnavailableError, ValueTooLargeError } from './errors.js';
import { MemoryTier, MISS } from './memory/memory-tier.js';
import { entryOverhead } from './memory/weigher.js';
import { HealthMonitor } from './metrics/health.js';
import { LatencyRecorder } from './metrics/latency.js';
import { MissRatioCurve } from './metrics/miss-ratio-curve.js';
import { type Removal, RemovalLog, removalLogSize, shadowCapacity } from './metrics/removal-log.js';
import type { Counters } from './metrics/stats.js';
import type { ResolvedOptions, WriteSettings } from './options/resolve.js';
import { type Flight, SingleFlight, StaleCopy } from './stampede/single-flight.js';
import type { InvalidationMessage, SharedTier } from './tier.js';

/** Why the L1 lacks a key: its removal, `'seen'` (by the sketch only), or `undefined` (a first read). */
export type MissExplanation = Removal | 'seen' | undefined;

/** State shared by a cache and its namespace views. */
export class CacheCore {
  readonly options: ResolvedOptions;
  readonly l1: MemoryTier | undefined;
  readonly flights = new SingleFlight<unknown>();
  readonly controllers = new Set<AbortController>();
  /** Loader calls running now (for `maxConcurrentLoads`), including ones finishing after a soft timeout. */
  loading = 0;
  readonly #stopErrors: (() => void) | undefined;
  /** The live miss-ratio curve of the L1 (`metrics/miss-ratio-curve.ts`); `undefined` with stats off. */
  readonly curve: MissRatioCurve | undefined;
  /** When the tuner's and the curve's samples run (see `cache/simulations.ts`). */
  readonly #simulations: Simulations | undefined;
  /** Which error kinds each namespace (by its counters) has reported through the `error` event. */
  readonly #reported = new WeakMap<Counters, Set<string>>();
  /** Without a bus: how long an L1 copy of a shared entry counts as fresh at most (0: unbounded). */
  readonly #freshnessMs: number;
  /** The hot keys (see `cache/hot-set.ts`). */
  readonly hot: HotSet;
  /** Whether the L1 holds a key (for the tag index's pruning). */
  readonly #isCached = (physical: string): boolean =>
    this.l1 !== undefined && this.l1.peek(physical, this.options.clock.now()) !== MISS;
  /** Refresh-ahead loads running now (bounded by `refreshAhead.concurrency`). */
  refreshingAhead = 0;
  /** This instance's tag index (see `cache/tag-index.ts`). */
  readonly tags = new TagIndex();
  /** The repair of writes the shared tier did not confirm (see `cache/repair.ts`). */
  readonly repair: WriteRepair | undefined;
  /** Each namespace path's counters (see `cache/namespace-counters.ts`). */
  readonly namespaces = new NamespaceCounters();
  readonly latency: LatencyRecorder | undefined;
  readonly health: HealthMonitor | undefined;
  readonly events = new EventEmitter();
  /** The L1 capacity in entries, for the shadow estimates (an estimate when bounded only by bytes). */
  readonly capacity: number;
  /** The invalidation bus as this instance uses it (see `cache/invalidation.ts`). */
  readonly invalidation: Invalidation;
  closed = false;

  constructor(options: ResolvedOptions) {
    this.options = options;
    const removals = options.l1 !== false && options.stats ? new RemovalLog(removalLogSize(options.l1)) : undefined;
    this.capacity = options.l1 === false ? 0 : shadowCapacity(options.l1);
    const l1 = options.l1 === false ? undefined : new MemoryTier(options.l1, options.random, removals);
    this.l1 = l1;
    const curveSize =
      options.l1 === false || !options.stats ? undefined : MissRatioCurve.sizeFor(this.capacity, options.l1.maxBytes);
    if (l1 !== undefined && curveSize !== undefined) {
      // The live miss-ratio curve: sampled on the L1's hit path, simulated by a timer within a CPU budget.
      // Its own randomness: drawing from options.random would shift a seeded cache's own sequence.
      this.curve = new MissRatioCurve(
        this.capacity,
        curveSize,
        Math.random,
        (physical) => this.namespaces.ofPhysical(physical).curve,
      );
      l1.sampler = this.curve;
    }
    this.#simulations = l1 === undefined ? undefined : new Simulations(l1, this.curve, options.health.curveBudget);
    this.latency = options.stats ? new LatencyRecorder() : undefined;
    if (l1 !== undefined && options.stats) {
      // Each namespace's share of the L1's removals, for its own wrong-data / warming-up verdict.
      l1.onRemoved = (physical, unread) => {
        const counters = this.namespaces.ofPhysical(physical).counters;
        counters.l1Removed++;
        if (unread) counters.l1RemovedUnread++;
      };
    }
    this.health = options.stats
      ? new HealthMonitor(
          { ...options.health, ttlMs: options.ttl, curve: this.curve !== undefined },
          () => {
            this.#simulations?.beforeReport();
            return { namespaces: this.namespaces.totals(), curveEpoch: this.curve?.epoch ?? 0 };
          },
          options.clock.now(),
        )
      : undefined;
    this.hot = new HotSet(options, this.l1);
    const l2 = options.l2;
    this.#freshnessMs = l2 !== undefined && l2.onInvalidation === undefined ? (l2.l1FreshnessMs ?? 0) : 0;
    this.repair =
      options.l2 === undefined ? undefined : new WriteRepair(options.l2, (op, key) => this.publish(op, key));
    this.invalidation = new Invalidation(options, this.flights, this.l1, this.tags, randomUUID());
    const logger = options.logger;
    if (logger !== undefined)
      this.events.on('error', (error: Error) => logger.warn({ err: error }, `tiercache: ${error.message}`));
    // The shared tier's connection failures, re-emitted as the cache's `error` event.
    this.#stopErrors = options.l2?.onError?.((error) => {
      if (this.events.listenerCount('error') > 0) this.events.emit('error', error);
    });
  }

  /** Tells other instances to drop their copies (no-op without a bus). */
  publish(op: InvalidationMessage['op'], key: string): void {
    this.invalidation.publish(op, key);
  }

  /** Stops listening to the bus. */
  detach(): void {
    this.invalidation.close();
    this.#simulations?.close();
    this.#stopErrors?.();
    this.hot.close();
    this.repair?.close();
  }

  /** Why the L1 does not hold a key, read before anything refills it (`undefined`: a first read). */
  explainMiss(physical: string): MissExplanation {
    return this.options.stats ? this.l1?.explainMiss(physical) : undefined;
  }

  /** Counts `reads` reads that no tier answered, by cause, and advances the health window. */
  recordMiss(counters: Counters, explanation: MissExplanation, now: number, reads = 1): void {
    this.#simulations?.onMiss();
    if (explanation === undefined) {
      counters.missCold += reads;
    } else if (explanation === 'seen') {
      // Read before, but too long ago for the removal log: evicted long since, or never admitted.
      counters.missEvicted += reads;
    } else if (explanation.cause === 'expired') {
      counters.missExpired += reads;
      counters.expiredGapMs += reads * Math.max(0, now - explanation.at);
    } else if (explanation.cause === 'evicted') {
      counters.missEvicted += reads;
      if (explanation.evictionsSince < this.capacity) counters.evictedWithin2x += reads;
      if (explanation.evictionsSince < this.capacity * 3) counters.evictedWithin4x += reads;
    } else {
      counters.missInvalidated += reads;
    }
    const warning = this.health?.tick(now);
    if (warning !== undefined) this.events.emit('lowHitRate', warning);
  }

  /**
   * Looks a key up in the shared tier and, on a hit, fills the L1 for the entry's remaining TTL (an L1
   * copy never outlives its source). Failures are counted and read as a miss; a `recheck` miss is not
   * counted again. `versioned` (on a tier that keeps versions) also reads the key's version into the
   * flight, in the same round trip: the lookup that may precede a load.
   */
  readShared(
    counters: Counters,
    physical: string,
    key: string,
    flight?: Flight<unknown>,
    recheck = false,
    versioned = false,
  ): Promise<unknown> {
    return this.readSharedThen(counters, physical, key, flight, recheck, versioned, same);
  }

  /**
   * {@link readShared}, with what to do next (`next` gets the value or {@link MISS}) run in the same
   * reaction: on the L2-hit path each promise layer saved is measurable.
   */
  readSharedThen<R>(
    counters: Counters,
    physical: string,
    key: string,
    flight: Flight<unknown> | undefined,
    recheck: boolean,
    versioned: boolean,
    next: (shared: unknown) => R | PromiseLike<R>,
  ): Promise<R> {
    const l2 = this.options.l2 as SharedTier;
    // A read without a flight (`get`) cannot be superseded: it fills the L1 only if no invalidation
    // arrived while it was out (a delete processed before its reply would otherwise be undone).
    const since = flight === undefined ? this.flights.invalidations : 0;
    let read: Promise<Envelope | undefined>;
    try {
      read =
        versioned && flight !== undefined && l2.getVersioned !== undefined
          ? l2.getVersioned(physical).then((answer) => {
              flight.version = answer.version;
              flight.tagEpoch = answer.tagEpoch;
              return answer.envelope;
            })
          : l2.get(physical);
    } catch (error) {
      read = Promise.reject(error); // a third-party tier that throws instead of rejecting
    }
    // Reactions rather than an async function: this is the L2-hit path, where each layer costs.
    return read.then(
      (envelope) => next(this.#answerShared(counters, physical, key, envelope, flight, recheck, since)),
      (error: unknown) => {
        if (!(error instanceof TierUnavailableError)) throw error;
        counters.l2Errors++;
        return next(MISS);
      },
    );
  }

  /** What a shared-tier lookup found: the value (filled into L1), or {@link MISS}. */
  #answerShared(
    counters: Counters,
    physical: string,
    key: string,
    envelope: Envelope | undefined,
    flight: Flight<unknown> | undefined,
    recheck: boolean,
    since: number,
  ): unknown {
    const now = this.options.clock.now();
    if (envelope === undefined || envelope.expiresAt <= now) {
      // A flight's first lookup counts; its re-checks (after the lock, after a wake-up) do not.
      if (!recheck) counters.l2Misses++;
      // Past its TTL but within grace: not an answer, but what fail-safe serves if loading fails — unless
      // a copy that lives longer (written later) is already known.
      if (envelope !== undefined && flight !== undefined) {
        const until = envelope.expiresAt + this.options.graceMs;
        if (flight.stale === undefined || flight.stale.until < until)
          flight.stale = new StaleCopy(envelope.value, until);
      }
      return MISS;
    }
    if (flight === undefined ? this.flights.invalidations === since : !flight.superseded) {
      const { expiresAt, delta } = envelope;
      try {
        this.fillL1(physical, key, envelope.value, expiresAt + this.options.graceMs, now, expiresAt, delta);
      } catch (error) {
        // copyOnRead could not copy it (structuredClone: too deeply nested): not an answer, and not an
        // exception for the reader either — the read loads, and the loader's value is judged on its own.
        if (!(error instanceof InvalidValueError)) throw error;
        counters.l2Unusable++;
        return MISS;
      }
    }
    // Every caller of the flight counts this as a hit.
    if (flight !== undefined) {
      flight.fromSharedTier = true;
      flight.sharedEntry = envelope;
    }
    return envelope.value;
  }

  /**
   * Copies a value that is already cached elsewhere (L2, or a stale copy being served) into the L1, if
   * there is one, the cache is open, and the value is within `maxEntryBytes`.
   */
  fillL1(
    physical: string,
    key: string,
    value: unknown,
    expiresAt: number,
    now: number,
    freshUntil = expiresAt,
    delta = 0,
  ): void {
    if (this.l1 === undefined || this.closed) return;
    const weight = this.options.weigher(value);
    if (weight > this.options.maxEntryBytes) return;
    this.l1.set(
      physical,
      this.ownCopy(key, value),
      weight + entryOverhead(physical),
      expiresAt,
      now,
      this.#capFresh(physical, now, freshUntil),
      delta,
    );
  }

  /** Remembers a key whose write the shared tier did not confirm, for repair (see `cache/repair.ts`). */
  unconfirmed(counters: Counters, physical: string): void {
    if (this.repair === undefined || this.closed) counters.l2Deferred++;
    else this.repair.key(counters, physical);
  }

  /** Keys (and tags) whose writes wait for their repair. */
  get unconfirmedKeys(): number {
    return this.repair?.pending ?? 0;
  }

  /**
   * The end of freshness for a new L1 copy: capped for a hot key (see `HotSet`), and by the shared
   * tier's `l1FreshnessMs` when no bus tells this instance of other instances' writes.
   */
  #capFresh(physical: string, now: number, freshUntil: number): number {
    const capped = this.hot.cap(physical, now, freshUntil);
    const bound = this.#freshnessMs;
    return bound > 0 && capped - now > bound ? now + bound : capped;
  }

  /**
   * Emits an absorbed error as an `error` event, once per namespace and error class (a loader returning
   * class instances would otherwise report on every load). Without a listener it is only counted.
   */
  reportOnce(counters: Counters, error: TierCacheError): void {
    const kind = `${error.code}`;
    let reported = this.#reported.get(counters);
    if (reported === undefined) {
      reported = new Set();
      this.#reported.set(counters, reported);
    }
    if (reported.has(kind)) return;
    reported.add(kind);
    if (this.events.listenerCount('error') > 0) this.events.emit('error', error);
  }

  /** Forgets the tags this instance recorded for a key (it was removed, or rewritten). */
  untag(physical: string): void {
    this.tags.remove(physical);
  }

  /**
   * Runs a shared-tier call (a removal, or tag bookkeeping), counting and absorbing unavailability. With
   * `physical`, the call is a write of that key: if the tier does not confirm it, the key is remembered
   * for repair. @returns whether the tier confirmed it.
   */
  async tryShared(counters: Counters, remove: (l2: SharedTier) => Promise<void>, physical?: string): Promise<boolean> {
    const l2 = this.options.l2;
    if (l2 === undefined) return true;
    try {
      await remove(l2);
      if (physical !== undefined) this.repair?.confirmed(physical);
      return true;
    } catch (error) {
      if (!(error instanceof TierUnavailableError)) throw error;
      counters.l2Errors++;
      if (physical !== undefined) this.unconfirmed(counters, physical);
      return false;
    }
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
   * Stores a value in the L1 with the TTL the settings give it (kept for the grace beyond), and says
   * what to write to L2. `delta` is how long the load took (XFetch's cost estimate).
   * @throws ValueTooLargeError over `maxEntryBytes` (counted; any older value dropped).
   */
  store(
    counters: Counters,
    physical: string,
    key: string,
    value: unknown,
    settings: WriteSettings,
    ttlOverride?: number,
    delta = 0,
    tags: readonly string[] = NO_TAGS,
  ): Written {
    const { options, l1 } = this;
    const weight = options.weigher(value);
    if (typeof weight !== 'number' || !(weight >= 0)) {
      throw new InvalidValueError(key, `the weigher returned ${String(weight)}; it must return a number ≥ 0.`);
    }
    const now = options.clock.now();
    if (weight > options.maxEntryBytes) {
      counters.refusedTooLarge++;
      l1?.delete(physical, now);
      throw new ValueTooLargeError(key, weight, options.maxEntryBytes);
    }
    let ttl = ttlOverride ?? (value === null ? settings.nullTtl : settings.ttl);
    if (settings.ttlJitter > 0) ttl *= 1 + settings.ttlJitter * (2 * options.random() - 1);
    const freshUntil = this.#capFresh(physical, now, now + ttl);
    l1?.set(
      physical,
      this.ownCopy(key, value),
      weight + entryOverhead(physical),
      now + ttl + options.graceMs,
      now,
      freshUntil,
      delta,
    );
    // The local tag index moves with the L1, in the same step: a tag invalidation arriving while the
    // shared tier is written must find the key.
    this.tags.set(physical, tags, this.#isCached);
    return { at: now, ttl, expiresAt: now + ttl, delta, tags };
  }
}

/** No tags. */
export const NO_TAGS: readonly string[] = Object.freeze([]);

/** The identity, for {@link CacheCore.readShared}'s `next`. */
const same = <T>(value: T): T => value;
