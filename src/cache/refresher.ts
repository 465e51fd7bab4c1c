/**
 * The refresher: reloads a key that is still fresh, in the background, so its readers never wait — on
 * XFetch's draw (probabilistic early expiration, on L1 hits and on L2 hits without an L1), on
 * refresh-ahead, and for a hot key's capped L1 copy. A refresh runs under the key's single-flight and,
 * with a shared tier, its lock (an instance that cannot take it leaves the refresh to the holder), takes
 * a fresher entry another instance stored instead of loading again, and fails silently (counted).
 */

import type { Envelope } from '../entry.js';
import { TierUnavailableError } from '../errors.js';
import { XFETCH_HORIZON, xfetchFires } from '../freshness.js';
import { type MemoryTier, MISS } from '../memory/memory-tier.js';
import type { WriteSettings } from '../options/resolve.js';
import { DEFAULTS, resolveCallOptions } from '../options/resolve.js';
import type { CallOptions } from '../options.js';
import { HeldLock } from '../stampede/held-lock.js';
import type { SharedTier } from '../tier.js';
import type { Loader } from './api.js';
import { type FlightNote, type LoadJob, MissJob } from './jobs.js';
import { loadAndStore, releaseLock } from './load-runner.js';
import type { View } from './view.js';

/**
 * Starts a background refresh of a key that is still fresh (XFetch fired): callers keep getting the
 * current value; the load runs under the key's single-flight and distributed lock, and its failures
 * reach no caller.
 */
export function refreshEarly<T>(
  view: View,
  physical: string,
  key: string,
  loader: Loader<T>,
  options: CallOptions | WriteSettings | undefined,
  freshUntil: number,
  ahead: boolean,
): void {
  const core = view.core;
  if (core.flights.get(physical) !== undefined) return;
  let settings: WriteSettings;
  try {
    settings = resolveCallOptions(core.options, options);
  } catch {
    return; // the caller's own read already succeeded; bad options fail its next miss loudly
  }
  view.counters.refreshes++;
  if (ahead) core.refreshingAhead++;
  const flight = core.flights.start(physical, (own) => {
    own.note = { explanation: undefined, callers: 0 } satisfies FlightNote;
    return refresh(view, new MissJob(own, physical, key, loader, settings), freshUntil);
  });
  flight.promise.then(
    () => {
      if (ahead) core.refreshingAhead--;
    },
    () => {
      if (ahead) core.refreshingAhead--;
      view.counters.refreshErrors++;
    },
  );
}

/**
 * Refresh-ahead: a hit within the window of expiry reloads the key in the background if it is read
 * often enough (the sketch's estimate) and fewer than `concurrency` refreshes are running.
 */
export function refreshAhead<T>(
  view: View,
  l1: MemoryTier,
  physical: string,
  key: string,
  loader: Loader<T>,
  options: CallOptions | undefined,
  freshUntil: number,
): void {
  const core = view.core;
  // The cache's settings, or (a call's own refresh-ahead with the cache's off) the defaults.
  const ahead = core.options.refreshAhead;
  const concurrency = ahead?.concurrency ?? DEFAULTS.refreshAheadConcurrency;
  if (core.refreshingAhead >= concurrency || core.flights.get(physical) !== undefined) return;
  const call = options?.refreshAhead;
  const minReads = (call !== undefined && call !== false ? call.minReads : undefined) ?? ahead?.minReads;
  if (l1.lastFrequency < (minReads ?? DEFAULTS.refreshAheadMinReads)) return;
  refreshEarly(view, physical, key, loader, options, freshUntil, true);
}

/**
 * A refresh's work: under the distributed lock if there is one (skip if another instance holds it),
 * look at L2 first — another instance may have refreshed the key already (its entry outlives ours,
 * `freshUntil`), and then its value is taken instead of loading again — else load and store.
 */
export async function refresh<T>(view: View, job: LoadJob<T>, freshUntil: number): Promise<T | undefined> {
  const l2 = view.core.options.l2;
  const lock = view.core.options.lock;
  if (l2 === undefined) return loadAndStore(view, job);
  const locking = l2.tryLock !== undefined && lock !== false;
  const held = locking ? await l2.tryLock?.(job.physical, lock.ttlMs).catch(() => undefined) : undefined;
  if (locking && held === undefined) return undefined; // another instance is refreshing it (or no lock service)
  if (held !== undefined) job.lock = new HeldLock(held, (lock as { ttlMs: number }).ttlMs);
  let loaded = false;
  try {
    const newer = await newerShared(view, l2, job, freshUntil);
    if (newer !== MISS) return newer as T;
    const value = await loadAndStore(view, job);
    loaded = true;
    return value;
  } finally {
    await releaseLock(l2, job, loaded);
  }
}

/**
 * XFetch on an L2 hit when there is no L1 (with one, the L1 hits that follow draw instead): once the
 * flight has answered its callers, draw against the entry's expiry and load time, and maybe refresh.
 */
export function xfetchShared<T>(view: View, job: LoadJob<T>): void {
  const { flight, physical, key, loader, settings } = job;
  const entry = flight.sharedEntry;
  if (entry === undefined) return;
  const cost = entry.delta * view.beta;
  // Far from expiry (nearly always) it cannot fire: decide that now, before waiting on anything.
  if (entry.expiresAt - view.clock.now() >= cost * XFETCH_HORIZON) return;
  flight.promise.then(
    () => {
      const now = view.clock.now();
      if (entry.expiresAt - now < cost * XFETCH_HORIZON && xfetchFires(now, entry.expiresAt, cost, view.random)) {
        refreshEarly(view, physical, key, loader, settings, entry.expiresAt, false);
      }
    },
    () => {},
  );
}

/**
 * For a refresh: the key's L2 entry if it is fresher than ours (filled into L1), else {@link MISS}; the
 * key's version is noted on the flight either way, for the load that follows.
 */
export async function newerShared(
  view: View,
  l2: SharedTier,
  job: LoadJob<unknown>,
  freshUntil: number,
): Promise<unknown> {
  const { flight, physical, key } = job;
  const core = view.core;
  try {
    let envelope: Envelope | undefined;
    if (l2.getVersioned === undefined) {
      envelope = await l2.get(physical);
    } else {
      const read = await l2.getVersioned(physical);
      envelope = read.envelope;
      flight.version = read.version;
      flight.tagEpoch = read.tagEpoch;
    }
    if (envelope === undefined || envelope.expiresAt <= freshUntil) return MISS;
    const now = view.clock.now();
    const { expiresAt, delta } = envelope;
    core.fillL1(physical, key, envelope.value, expiresAt + core.options.graceMs, now, expiresAt, delta);
    return envelope.value;
  } catch (error) {
    if (!(error instanceof TierUnavailableError)) throw error;
    view.counters.l2Errors++;
    return MISS; // no version known: the load that follows stays in L1
  }
}
