/**
 * The miss path: what happens when the L1 cannot answer. A caller joins the key's flight, or starts one;
 * the flight's owner looks again (another flight may have filled the key), asks the shared tier, and on a
 * miss takes the key's distributed lock — then looks once more and loads (`load-runner.ts`) — or waits for
 * the holder's fill notification and reads the shared tier, loading by itself after `lock.wait`.
 *
 * The protocol's invariants, and what each failure does:
 * - At most one load per key runs across instances while the lock holder is alive: the lock
 *   (`SET NX PX`, a token, compare-and-delete release) is extended every third of `lock.ttl` while its load
 *   runs (`stampede/held-lock.ts`); a crashed holder blocks others for `lock.ttl` at most.
 * - No load stores over something newer (Kleppmann, "How to do distributed locking", 2016; Meta's
 *   leases, Nishtala et al., NSDI 2013): the store is fenced by the key's version read before the load
 *   queried, by the lock's token (a holder that stalled past its TTL finds the lock moved), and by the
 *   tag epoch for tagged values. A refused store still answers its callers, and leaves no copy anywhere.
 * - No caller waits unboundedly: a lock wait ends at `lock.wait` (a fill notification wakes it early; a
 *   re-read every FILL_POLL_MS covers a lost one, and a wait never depends on the pub/sub connection);
 *   a load is bounded by the soft and hard timeouts, and so is a caller who joins one late.
 * - The shared tier down: every step absorbs `TierUnavailableError` (counted) and falls through to
 *   loading here, unfenced by a lock but still by the version when one was read.
 */
import { OverloadedError, TierUnavailableError, TimeoutError } from '../errors.js';
import { boundedWait, HARD_PASSED, SOFT_PASSED } from '../freshness.js';
import { malformedKeyError } from '../keys.js';
import { MISS } from '../memory/memory-tier.js';
import type { TraceContext } from '../metrics/channels.js';
import { HIT_SAMPLE_EVERY } from '../metrics/latency.js';
import { resolveCallOptions, type WriteSettings } from '../options/resolve.js';
import type { CallOptions } from '../options.js';
import { HeldLock } from '../stampede/held-lock.js';
import { type Flight, StaleCopy } from '../stampede/single-flight.js';
import type { LockHandle, SharedTier } from '../tier.js';
import type { Loader } from './api.js';
import { copyOut } from './copy-out.js';
import { type FlightNote, type LoadJob, MissJob, MissNote } from './jobs.js';
import * as runner from './load-runner.js';
import * as refresher from './refresher.js';
import type { View } from './view.js';

const HIT_SAMPLE_MASK = HIT_SAMPLE_EVERY - 1;
/** A lock waiter re-reads L2 at least this often, in case a fill notification was lost. */
const FILL_POLL_MS = 100;

/** The miss path: join the key's flight, or start one. */
export function loadShared<T>(
  view: View,
  physical: string,
  key: string,
  loader: Loader<T>,
  options: CallOptions | undefined,
  trace: TraceContext | undefined,
  now: number,
  stale: { readonly value: unknown; readonly freshUntil: number; readonly until: number } | undefined,
): Promise<T> {
  const core = view.core;
  const existing = core.flights.get(physical) as Flight<T> | undefined;
  // Joiners share the owner's miss explanation (computed once per flight), and one in
  // HIT_SAMPLE_EVERY of them is timed: in a stampede of thousands, per-joiner work is the cost.
  const timed =
    core.latency !== undefined &&
    (existing === undefined || (view.counters.collapsed & HIT_SAMPLE_MASK) === HIT_SAMPLE_MASK);
  const started = timed ? performance.now() : 0;
  let flight: Flight<T>;
  let outcome: 'miss' | 'collapsed';
  let note: FlightNote;
  if (existing !== undefined) {
    view.counters.collapsed++;
    flight = existing;
    outcome = 'collapsed';
    note = existing.note as FlightNote;
    note.callers++;
    if (existing.background) {
      if (trace !== undefined) trace.outcome = outcome;
      return joinLate(view, existing, key);
    }
  } else {
    note = new MissNote(
      stale === undefined ? core.explainMiss(physical) : { cause: 'expired', at: stale.freshUntil, evictionsSince: 0 },
    );
    let settings: WriteSettings;
    try {
      const malformed = malformedKeyError(key);
      if (malformed !== undefined) throw malformed;
      settings = resolveCallOptions(core.options, options);
    } catch (error) {
      return Promise.reject(error);
    }
    if (stale === undefined && core.options.l2 === undefined && core.loading >= core.options.maxConcurrentLoads) {
      // Over the load limit with nothing to serve and nowhere else to look: refuse before starting a
      // flight (the cheapest refusal; a burst of cold keys is when it matters).
      view.counters.overloaded++;
      core.recordMiss(view.counters, note.explanation, now);
      if (trace !== undefined) trace.outcome = 'error';
      return Promise.reject(new OverloadedError(key, core.options.maxConcurrentLoads));
    }
    flight = core.flights.start(
      physical,
      (own) => {
        // Set before the load starts: it runs synchronously up to its first await.
        own.note = note;
        if (stale !== undefined) own.stale = new StaleCopy(stale.value, stale.until);
        return load(view, new MissJob(own, physical, key, loader, settings));
      },
      counterOf(view, note, now, started),
    ) as Flight<T>;
    outcome = 'miss';
  }
  if (trace !== undefined) trace.outcome = outcome;
  if (core.options.l2 === undefined) core.recordMiss(view.counters, note.explanation, now);
  const latency = core.latency;
  // The owner is timed by #countWhenSettled; a sampled joiner here.
  if (timed && latency !== undefined && outcome === 'collapsed') {
    const label = view.label;
    flight.promise.then(
      () => latency.getOrLoad(outcome, started, label),
      () => latency.getOrLoad('error', started, label),
    );
  }
  // Each caller gets its own clone when copyOnRead is on; they share one promise otherwise.
  return view.copyOnRead ? flight.promise.then((value) => copyOut(key, value)) : flight.promise;
}

/**
 * Joins a load that is already answering nobody (it went on after a timeout), bounded as if this caller
 * had started it: past `softTimeout` the stale copy (if any), past `hardTimeout` the stale copy or a
 * TimeoutError — never the rest of a slow load.
 */
export function joinLate<T>(view: View, flight: Flight<T>, key: string): Promise<T> {
  const { softTimeoutMs, hardTimeoutMs } = view.core.options;
  const stale = flight.stale;
  const counters = view.counters;
  const wait = boundedWait(
    flight.promise,
    stale === undefined ? Number.POSITIVE_INFINITY : softTimeoutMs,
    hardTimeoutMs,
  );
  return wait.then((result) => {
    let value: T;
    if (result === SOFT_PASSED || result === HARD_PASSED) {
      counters.loadTimeouts++;
      if (stale === undefined) throw new TimeoutError(key, hardTimeoutMs);
      counters.staleServed++;
      value = stale.value as T;
    } else {
      value = result;
    }
    return view.copyOnRead ? copyOut(key, value) : value;
  });
}

/**
 * With a shared tier, a read is a miss only if L2 misses too: the callback that, once a flight settles,
 * counts its callers (owner and joiners) in one go, rather than one callback per caller; and times
 * its owner. `undefined` when there is nothing to count.
 */
export function counterOf(
  view: View,
  note: FlightNote,
  now: number,
  started?: number,
): ((flight: Flight<unknown>, ok: boolean) => void) | undefined {
  const core = view.core;
  const latency = started === undefined ? undefined : core.latency;
  const shared = core.options.l2 !== undefined;
  if (!shared && latency === undefined && core.options.graceMs === 0) return undefined;
  const counters = view.counters;
  const label = view.label;
  return (flight, ok) => {
    if (flight.servedStale) counters.staleServed += note.callers;
    if (shared && note.callers > 0) {
      if (flight.fromSharedTier) counters.l2Hits += note.callers;
      else core.recordMiss(counters, note.explanation, now, note.callers);
    }
    latency?.getOrLoad(ok ? 'miss' : 'error', started as number, label);
  };
}

/** The flight's work: look again, then (under the distributed lock when there is one) load and store. */
export function load<T>(view: View, job: LoadJob<T>): Promise<T> {
  const { flight, physical, key } = job;
  const core = view.core;
  // Look again now that this call owns the flight: with a remote tier between the miss and here,
  // another flight may have filled the key meanwhile (groupcache's load() does the same).
  const l1 = view.l1;
  if (l1 !== undefined) {
    const now = view.clock.now();
    const filled = l1.peek(physical, now);
    if (filled !== MISS && now < l1.freshUntil) return Promise.resolve(filled as T);
  }
  const l2 = core.options.l2;
  if (l2 === undefined) return runner.loadAndStore(view, job);
  const lock = core.options.lock;
  const locking = lock !== false && l2.tryLock !== undefined && l2.waitForFill !== undefined;
  // Without the lock this lookup is the last before loading, so it reads the version too; with it,
  // the re-check under the lock does (a plain GET keeps the L2-hit path at one key). A reaction, not
  // an async function: an L2 hit settles the flight straight from here.
  return core.readSharedThen(view.counters, physical, key, flight, false, !locking, (shared): T | Promise<T> => {
    if (shared !== MISS) {
      if (l1 === undefined) refresher.xfetchShared(view, job);
      return shared as T;
    }
    if (!locking) return runner.loadAndStore(view, job);
    return loadUnderLock(view, l2, lock as Exclude<typeof lock, false>, job);
  });
}

/**
 * Distributed single-flight: take the key's lock and load, or wait for the holder's fill notification
 * and read L2. The lock's TTL bounds a crashed holder; after `lock.wait` this instance loads itself.
 */
export async function loadUnderLock<T>(
  view: View,
  l2: SharedTier,
  lock: { readonly ttlMs: number; readonly waitMs: number },
  job: LoadJob<T>,
): Promise<T> {
  const { flight, physical, key } = job;
  const core = view.core;
  const counters = view.counters;
  const deadline = performance.now() + lock.waitMs;
  let waited = false;
  for (;;) {
    let held: LockHandle | undefined;
    try {
      held = await (l2.tryLock as NonNullable<SharedTier['tryLock']>)(physical, lock.ttlMs);
    } catch (error) {
      if (!(error instanceof TierUnavailableError)) throw error;
      counters.l2Errors++;
      break; // no lock service: load here rather than hang
    }
    if (held !== undefined) {
      // Extended while the load runs; its token fences the store.
      job.lock = new HeldLock(held, lock.ttlMs);
      let loaded = false;
      try {
        // Look once more now that the lock is ours: the previous holder may have filled the key and
        // released between our L2 miss and our lock (measured: without this, 2 loads for 4 processes).
        const shared = await core.readShared(counters, physical, key, flight, true, true);
        if (shared !== MISS) return shared as T;
        const value = await runner.loadAndStore(view, job);
        loaded = true;
        return value;
      } finally {
        await runner.releaseLock(l2, job, loaded);
      }
    }
    if (!waited) counters.lockWaits++;
    waited = true;
    const remaining = deadline - performance.now();
    if (remaining <= 0) {
      counters.lockTimeouts++;
      break;
    }
    // Listen first, then look: a value that landed before we listened is seen by the read, one that
    // lands after wakes us. The poll interval only matters if a notification is lost.
    // A third-party tier might reject: a wait that failed is a wait that ended.
    const woken = (l2.waitForFill as NonNullable<SharedTier['waitForFill']>)(
      physical,
      Math.min(remaining, FILL_POLL_MS),
    ).catch(() => undefined);
    // Versioned: if the wait runs out, this instance loads, and these were its last looks.
    let shared = await core.readShared(counters, physical, key, flight, true, true);
    if (shared === MISS) {
      await woken;
      shared = await core.readShared(counters, physical, key, flight, true, true);
    }
    if (shared !== MISS) return shared as T;
  }
  return runner.loadAndStore(view, job);
}
