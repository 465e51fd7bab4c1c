/**
 * The state a cache and all its namespace views share — tiers, flights, counters, health, the bus
 * subscription — and the tier-facing steps of the read and write paths (miss accounting, L2 read with
 * L1 fill, L2 writes and removals, applying other instances' invalidations). The facade (`cache.ts`)
 * decides what to do; this module knows how each step touches the tiers.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { WriteRepair } from './cache/repair.js';
import { TagIndex } from './cache/tag-index.js';
import type { Envelope } from './entry.js';
import { InvalidValueError, TierUnavailableError, ValueTooLargeError } from './errors.js';
import { HotKeyDetector } from './hotkeys/detector.js';
import { namespacePrefix, splitPhysicalKey } from './keys.js';
import { MemoryTier, MISS } from './memory/memory-tier.js';
import { entryOverhead } from './memory/weigher.js';
import { HealthMonitor, type HealthTotals } from './metrics/health.js';
import { LatencyRecorder } from './metrics/latency.js';
import { type Removal, RemovalLog } from './metrics/removal-log.js';
import { addCounters, Counters } from './metrics/stats.js';
import type { ResolvedOptions, WriteSettings } from './options.js';
import { type Flight, SingleFlight, StaleCopy } from './stampede/single-flight.js';
import type { BusEvent, InvalidationMessage, SharedTier } from './tier.js';

/** Removals remembered per unit of L1 capacity: enough to estimate the hit rate at 4× the capacity. */
const REMOVAL_LOG_FACTOR = 3;
/** Removal log size for an L1 bounded only by bytes (its entry count is unknown up front). */
const REMOVAL_LOG_DEFAULT = 30_000;
/** The removal log never grows past this many keys (~40 MB). */
const REMOVAL_LOG_MAX = 1_000_000;
/**
 * Heap bytes per remembered removal (typed-array slots and an index entry, measured ~70): an L1 bounded by
 * bytes spends at most a quarter of `maxBytes` on its log, so the whole cache stays within 2× of it.
 */
const REMOVAL_LOG_BYTES_PER_KEY = 4 * 80;
/** A log smaller than this cannot say anything useful; its cost is fixed and small (~80 KB). */
const REMOVAL_LOG_MIN = 1024;

/** Why the L1 lacks a key: its removal, `'seen'` (by the sketch only), or `undefined` (a first read). */
export type MissExplanation = Removal | 'seen' | undefined;

/** The hot-key sketch: 4 rows of 4,096 16-bit counters, 32 KiB. */
const HOT_SKETCH_WIDTH = 4096;
const HOT_SKETCH_DEPTH = 4;
/** How often the cache tells its shared tier which keys are hot. */
const HOT_PUSH_MS = 1000;

/** What kind of shared-tier write {@link CacheCore.writeShared} makes (see there). */
export type SharedWrite =
  | { readonly kind: 'write' }
  | { readonly kind: 'writeThrough'; readonly version: string | undefined; readonly tagEpoch: string | undefined }
  | { readonly kind: 'load'; readonly version: string | undefined; readonly fence: string | undefined };

/**
 * What a write did, as `set` and `writeThrough` report it:
 *
 * - `'stored'`: every tier holds the value (or there is no shared tier);
 * - `'invalidated'`: another write raced this one in the shared tier, and nobody can tell whose database
 *   write landed last, so the key was removed everywhere instead; the next read loads;
 * - `'deferred'`: the shared tier did not confirm the write (down, or timed out): this instance holds the
 *   value, and the key is removed from the shared tier as soon as it answers again, so no instance
 *   keeps serving what the write replaced.
 */
export type WriteOutcome = 'stored' | 'invalidated' | 'deferred';

/** Most namespace paths with counters of their own; further paths share one overflow entry. */
export const MAX_NAMESPACE_COUNTERS = 1000;
/** The label of the counters shared by namespaces past {@link MAX_NAMESPACE_COUNTERS}. */
const OVERFLOW_NAMESPACE = '/…';

/** When and for how long a value was written. */
export interface Written {
  readonly at: number;
  readonly ttl: number;
  /** End of freshness. */
  readonly expiresAt: number;
  /** How long the load took (0 for a `set`). */
  readonly delta: number;
  /** The physical tags it carries (none: empty). */
  readonly tags: readonly string[];
}

/** The counters of one namespace path. */
interface NamespaceCounters {
  readonly segments: readonly string[];
  readonly counters: Counters;
}

/** State shared by a cache and its namespace views. */
export class CacheCore {
  readonly options: ResolvedOptions;
  readonly l1: MemoryTier | undefined;
  readonly flights = new SingleFlight<unknown>();
  readonly controllers = new Set<AbortController>();
  /** Loader calls running now (for `maxConcurrentLoads`), including ones finishing after a soft timeout. */
  loading = 0;
  /** The hot-key detector (cache-wide, over physical keys); `undefined` when off. */
  readonly hotKeys: HotKeyDetector | undefined;
  /** Whether the L1 holds a key (for the tag index's pruning). */
  readonly #isCached = (physical: string): boolean =>
    this.l1 !== undefined && this.l1.peek(physical, this.options.clock.now()) !== MISS;
  /** The hot keys (physical) as of the detector's last report, refreshed every second. */
  hot: ReadonlySet<string> = new Set();
  /** How long a hot key's L1 copy counts as fresh at most; 0 when not capped (no detector or no L2). */
  hotL1TtlMs = 0;
  /** Refresh-ahead loads running now (bounded by `refreshAhead.concurrency`). */
  refreshingAhead = 0;
  /** This instance's tag index (see `cache/tag-index.ts`). */
  readonly #tags = new TagIndex();
  #hotTimer: NodeJS.Timeout | undefined;
  /** The repair of writes the shared tier did not confirm (see `cache/repair.ts`). */
  readonly #repair: WriteRepair | undefined;
  readonly namespaces = new Map<string, NamespaceCounters>();
  readonly latency: LatencyRecorder | undefined;
  readonly health: HealthMonitor | undefined;
  readonly events = new EventEmitter();
  /** The L1 capacity in entries, for the shadow estimates (an estimate when bounded only by bytes). */
  readonly capacity: number;
  /** Invalidation bus figures, when the shared tier has a bus. */
  readonly bus: { received: number; gaps: number } | undefined;
  readonly #unsubscribeBus: (() => void) | undefined;
  /** This cache's origin on the bus: its own invalidations do not come back to it. */
  readonly instanceId = randomUUID();
  closed = false;

  constructor(options: ResolvedOptions) {
    this.options = options;
    let removals: RemovalLog | undefined;
    if (options.l1 !== false && options.stats) {
      const { maxEntries, maxBytes } = options.l1;
      let size = Number.isFinite(maxEntries) ? maxEntries * REMOVAL_LOG_FACTOR : REMOVAL_LOG_DEFAULT;
      if (Number.isFinite(maxBytes))
        size = Math.min(size, Math.max(REMOVAL_LOG_MIN, maxBytes / REMOVAL_LOG_BYTES_PER_KEY));
      removals = new RemovalLog(Math.floor(Math.min(REMOVAL_LOG_MAX, size)));
    }
    this.capacity =
      options.l1 === false
        ? 0
        : Number.isFinite(options.l1.maxEntries)
          ? options.l1.maxEntries
          : REMOVAL_LOG_DEFAULT / 3;
    this.l1 = options.l1 === false ? undefined : new MemoryTier(options.l1, options.random, removals);
    this.latency = options.stats ? new LatencyRecorder() : undefined;
    this.health = options.stats
      ? new HealthMonitor({ ...options.health, ttlMs: options.ttl }, () => this.totals(), options.clock.now())
      : undefined;
    const hot = options.hotKeys;
    this.hotKeys =
      hot === undefined
        ? undefined
        : new HotKeyDetector(
            { ...hot, width: HOT_SKETCH_WIDTH, depth: HOT_SKETCH_DEPTH, seed: Math.floor(options.random() * 2 ** 32) },
            options.clock.now(),
          );
    if (this.hotKeys !== undefined && hot !== undefined) {
      const detector = this.hotKeys;
      // With a shared tier, a hot key's L1 copy is fresh for l1Ttl at most (see `l1Set`).
      this.hotL1TtlMs = options.l2 === undefined ? 0 : hot.l1TtlMs;
      this.#hotTimer = setInterval(() => {
        const keys = detector.hot(options.clock.now(), hot.minRate, hot.minShare).map((h) => h.key);
        this.hot = new Set(keys);
        options.l2?.setHotKeys?.(keys);
      }, HOT_PUSH_MS).unref();
      if (this.l1 !== undefined) this.l1.favoured = (key) => this.hot.has(key);
    }
    this.#repair =
      options.l2 === undefined ? undefined : new WriteRepair(options.l2, (op, key) => this.publish(op, key));
    const subscribe = options.l2?.onInvalidation;
    if (subscribe !== undefined) {
      this.bus = { received: 0, gaps: 0 };
      this.#unsubscribeBus = subscribe.call(options.l2, (event) => this.#onBusEvent(event), this.instanceId);
    }
  }

  /** Applies another instance's invalidation to this instance's L1 (and to loads in flight). */
  #onBusEvent(event: BusEvent): void {
    const bus = this.bus as { received: number; gaps: number };
    const now = this.options.clock.now();
    if (event === 'gap') {
      // Invalidations may have been lost: no L1 entry can be trusted. Dropping them is the safe
      // re-validation — the next read of each key goes to L2.
      bus.gaps++;
      this.flights.supersede();
      this.l1?.clear(now);
      return;
    }
    bus.received++;
    if (event.op === 'delete') {
      this.flights.supersedeKey(event.key);
      this.l1?.delete(event.key, now);
    } else if (event.op === 'expire') {
      // Stale from now on, but still there to serve if the reload fails (fail-safe grace).
      this.flights.supersedeKey(event.key);
      this.l1?.setFreshUntil(event.key, now, now);
    } else if (event.op === 'tag') {
      this.dropTag(event.key, now);
    } else if (event.key === '') {
      this.flights.supersede();
      this.l1?.clear(now);
    } else {
      const prefix = event.key;
      const inNamespace = (physical: string) => physical.startsWith(prefix);
      this.flights.supersede(inNamespace);
      this.l1?.deleteWhere(inNamespace, now);
    }
  }

  /** Tells other instances to drop their copies (no-op without a bus). */
  publish(op: InvalidationMessage['op'], key: string): void {
    this.options.l2?.publishInvalidation?.({ op, key, origin: this.instanceId });
  }

  /** Stops listening to the bus. */
  detach(): void {
    this.#unsubscribeBus?.();
    clearInterval(this.#hotTimer);
    this.#repair?.close();
  }

  /**
   * The counters of a namespace path, created on first use. Bounded: a cache that makes a namespace per
   * user or request would otherwise grow counters (and `stats()` time) forever; paths past
   * {@link MAX_NAMESPACE_COUNTERS} share one entry, labelled {@link OVERFLOW_NAMESPACE}, which the root's
   * figures still include.
   */
  countersFor(label: string, segments: readonly string[]): Counters {
    let entry = this.namespaces.get(label);
    if (entry === undefined) {
      const full = this.namespaces.size >= MAX_NAMESPACE_COUNTERS;
      entry = full ? this.namespaces.get(OVERFLOW_NAMESPACE) : undefined;
      if (entry === undefined) {
        entry = { segments: full ? [OVERFLOW_NAMESPACE] : segments, counters: new Counters() };
        this.namespaces.set(full ? OVERFLOW_NAMESPACE : label, entry);
      }
    }
    return entry.counters;
  }

  /** Counters summed over a namespace path and everything nested in it. */
  sumUnder(segments: readonly string[]): Counters {
    const sum = new Counters();
    for (const entry of this.namespaces.values()) {
      if (segments.every((segment, i) => entry.segments[i] === segment)) addCounters(sum, entry.counters);
    }
    return sum;
  }

  totals(): HealthTotals {
    const l1 = this.l1?.counters;
    return {
      counters: this.sumUnder([]),
      removed: l1 === undefined ? 0 : l1.evictions + l1.expirations,
      removedUnread: l1?.removedUnread ?? 0,
    };
  }

  /** Why the L1 does not hold a key, read before anything refills it (`undefined`: a first read). */
  explainMiss(physical: string): MissExplanation {
    return this.options.stats ? this.l1?.explainMiss(physical) : undefined;
  }

  /** Counts `reads` reads that no tier answered, by cause, and advances the health window. */
  recordMiss(counters: Counters, explanation: MissExplanation, now: number, reads = 1): void {
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
      this.#capHot(physical, now, freshUntil),
      delta,
    );
  }

  /**
   * Writes a value to the shared tier, as one of:
   *
   * - a **write** (`set`): on a versioned tier, the key's version is read first and the value stored only
   *   if it has not moved (as a write-through's store), so a write replayed late — sent into a partition,
   *   timed out here, executed by Redis when the network healed — can never land over a newer write;
   * - a **load** with the version read before loading (and the token of the lock it ran under, if any):
   *   stored only if the version has not moved and the lock is still its own, else dropped from L2 and L1
   *   and counted (`staleLoadsDropped`). A load whose version could not be read stays in L1 only:
   *   storing it blind could overwrite newer data;
   * - a **write-through** with the version read before the database write: stored if unraced, else the
   *   key is invalidated everywhere (`writeConflicts`) and the next read loads.
   *
   * A write the tier did not confirm is `'deferred'`: the key is remembered and removed from the shared
   * tier once it answers again. A value the tier cannot hold is counted, and rethrown for writes (loads
   * just stay out of L2).
   */
  async writeShared(
    counters: Counters,
    physical: string,
    value: unknown,
    written: Written,
    kind: SharedWrite,
  ): Promise<WriteOutcome> {
    const l2 = this.options.l2;
    if (l2 === undefined) return 'stored';
    let stored = true;
    try {
      const envelope: Envelope = {
        value,
        expiresAt: written.expiresAt,
        createdAt: written.at,
        delta: written.delta,
        tags: written.tags,
      };
      const ttlMs = written.ttl + this.options.graceMs;
      const versioned = l2.setIfVersion !== undefined && l2.writeIfVersion !== undefined && l2.version !== undefined;
      if (!versioned) {
        await l2.set(physical, envelope, ttlMs);
      } else if (kind.kind === 'load') {
        if (kind.version === undefined) return 'deferred';
        stored = await (l2.setIfVersion as NonNullable<SharedTier['setIfVersion']>)(
          physical,
          envelope,
          ttlMs,
          kind.version,
          kind.fence,
        );
      } else {
        const tagged = written.tags.length > 0 && l2.fenceTags !== undefined;
        const [version, tagEpoch] =
          kind.kind === 'write'
            ? await Promise.all([
                (l2.version as NonNullable<SharedTier['version']>)(physical),
                tagged ? l2.tagEpoch?.() : undefined,
              ])
            : [kind.version, kind.tagEpoch];
        if (version === undefined || (tagged && tagEpoch === undefined)) {
          throw new TierUnavailableError(l2.name, "the key's version could not be read.");
        }
        // A tag of the value was invalidated since the write began (its database write may predate the
        // invalidation's): as with a racing write, the key is removed rather than stored.
        const fence = l2.fenceTags as NonNullable<SharedTier['fenceTags']>;
        if (tagged && !(await fence.call(l2, written.tags, physical, ttlMs, tagEpoch as string))) {
          await l2.delete(physical);
          stored = false;
        } else {
          const write = l2.writeIfVersion as NonNullable<SharedTier['writeIfVersion']>;
          stored = await write.call(l2, physical, envelope, ttlMs, version);
        }
      }
    } catch (error) {
      if (error instanceof TierUnavailableError) {
        counters.l2Errors++;
        if (kind.kind === 'load') return 'deferred';
        this.unconfirmed(counters, physical);
        return 'deferred';
      }
      if (error instanceof InvalidValueError || error instanceof ValueTooLargeError) {
        counters.l2Refused++;
        if (kind.kind !== 'load') throw error;
        return 'deferred';
      }
      throw error;
    }
    if (stored) {
      this.#repair?.confirmed(physical);
      return 'stored';
    }
    if (kind.kind === 'load') counters.staleLoadsDropped++;
    else counters.writeConflicts++;
    this.l1?.delete(physical, this.options.clock.now());
    return 'invalidated';
  }

  /** Remembers a key whose write the shared tier did not confirm, for repair (see `cache/repair.ts`). */
  unconfirmed(counters: Counters, physical: string): void {
    if (this.#repair === undefined || this.closed) counters.l2Deferred++;
    else this.#repair.key(counters, physical);
  }

  /** Keys (and tags) whose writes wait for their repair. */
  get unconfirmedKeys(): number {
    return this.#repair?.pending ?? 0;
  }

  /**
   * Records a stored key's tags in the shared tier's tag sets, for at least the entry's lifetime — on a
   * tier without tag fencing (one with it recorded them before storing, see {@link fenceTags}).
   */
  async tagShared(counters: Counters, physical: string, written: Written): Promise<void> {
    const l2 = this.options.l2;
    const tags = written.tags;
    if (tags.length === 0 || l2?.tagKeys === undefined || l2.fenceTags !== undefined) return;
    const ttlMs = written.ttl + this.options.graceMs;
    await this.tryShared(counters, async (tier) => {
      await Promise.all(tags.map((tag) => tier.tagKeys?.(tag, [physical], ttlMs)));
    });
  }

  /**
   * Before a load stores a tagged value: joins the key to its tags in the shared tier and checks that
   * none was invalidated since the load began (see `SharedTier.fenceTags`). @returns `'stored'` when the
   * load may store (tags recorded), `'invalidated'` when a tag moved (the load is dropped here, counted),
   * `'deferred'` when the tier cannot tell (the load stays in this L1 only).
   */
  async fenceTags(
    counters: Counters,
    physical: string,
    written: Written,
    tagEpoch: string | undefined,
  ): Promise<WriteOutcome> {
    const l2 = this.options.l2;
    if (l2?.fenceTags === undefined || written.tags.length === 0) return 'stored';
    if (tagEpoch === undefined) return 'deferred';
    try {
      if (await l2.fenceTags(written.tags, physical, written.ttl + this.options.graceMs, tagEpoch)) return 'stored';
    } catch (error) {
      if (!(error instanceof TierUnavailableError)) throw error;
      counters.l2Errors++;
      return 'deferred';
    }
    counters.staleLoadsDropped++;
    this.l1?.delete(physical, this.options.clock.now());
    return 'invalidated';
  }

  /**
   * Another instance invalidated a tag: drop the keys this instance cached with it — among them values
   * kept only here, which the shared tier's tag set never saw — and store no load of the tag's namespace
   * now in flight (it may end up carrying the tag).
   */
  dropTag(tag: string, now: number): void {
    const { namespace } = splitPhysicalKey(tag);
    const prefix = namespacePrefix(namespace);
    this.flights.supersede(prefix === '' ? undefined : (physical) => physical.startsWith(prefix));
    for (const key of this.#tags.take(tag)) this.l1?.delete(key, now);
  }

  /** Forgets the tags this instance recorded for a key (it was removed, or rewritten). */
  untag(physical: string): void {
    this.#tags.remove(physical);
  }

  /**
   * Forgets a tag here and in the shared tier; returns the keys that carry it now: those this instance
   * recorded, and those the shared tier confirmed. `shared` is false when the shared tier could not be
   * asked (the caller then treats every local key as a shared one too).
   */
  async takeTag(counters: Counters, tag: string): Promise<{ local: Set<string>; shared: Set<string> | undefined }> {
    const local = this.#tags.take(tag);
    const l2 = this.options.l2;
    if (l2 === undefined) return { local, shared: new Set() };
    if (l2.takeTag === undefined) return { local, shared: undefined };
    return { local, shared: await this.#takeSharedTag(counters, l2, tag) };
  }

  /**
   * The shared tier's part of a tag invalidation. Keys whose removal it did not confirm are repaired like
   * unconfirmed writes; a tag it could not take at all is taken again once it answers (until then, other
   * instances may serve what the tag's keys held). @returns the keys removed, or `undefined` if the tag
   * could not be taken.
   */
  async #takeSharedTag(counters: Counters, l2: SharedTier, tag: string): Promise<Set<string> | undefined> {
    try {
      const taken = await (l2.takeTag as NonNullable<SharedTier['takeTag']>)(tag);
      for (const key of taken.unconfirmed) this.unconfirmed(counters, key);
      this.#repair?.confirmedTag(tag);
      return new Set(taken.removed);
    } catch (error) {
      if (!(error instanceof TierUnavailableError)) throw error;
      counters.l2Errors++;
      this.#repair?.tag(counters, tag);
      return undefined;
    }
  }

  /**
   * A hot key's L1 copy counts as fresh for `hotKeys.l1Ttl` at most (it stays, stale, for fail-safe):
   * the many readers of a hot key bound how long a lost invalidation can show. The read path re-reads it
   * from L2 in the background before then.
   */
  #capHot(physical: string, now: number, freshUntil: number): number {
    const cap = this.hotL1TtlMs;
    return cap > 0 && freshUntil - now > cap && this.hot.has(physical) ? now + cap : freshUntil;
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
      if (physical !== undefined) this.#repair?.confirmed(physical);
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
    const freshUntil = this.#capHot(physical, now, now + ttl);
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
    this.#tags.set(physical, tags, this.#isCached);
    return { at: now, ttl, expiresAt: now + ttl, delta, tags };
  }
}

/** No tags. */
export const NO_TAGS: readonly string[] = Object.freeze([]);

/** The identity, for {@link CacheCore.readShared}'s `next`. */
const same = <T>(value: T): T => value;
