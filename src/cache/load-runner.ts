/**
 * The load runner: runs a miss's loader within the load limit and the soft and hard timeouts, serves the
 * stale copy when loading fails, times out or is refused (fail-safe), lets a load outlive its callers
 * (background completion, taking its lock along), and stores what it loaded — fenced by the key's
 * version, the lock's token and the tags' epoch (`shared-write.ts`, `tags.ts`).
 */

import { InvalidValueError, LoaderError, OverloadedError, TimeoutError, ValueTooLargeError } from '../errors.js';
import { type LoadSettled, raceTimeouts } from '../freshness.js';
import { loadTracing } from '../metrics/channels.js';
import { checkTags } from '../options/resolve.js';
import { parseDuration } from '../options/validate.js';
import type { Duration } from '../options.js';
import type { SharedTier } from '../tier.js';
import type { LoaderContext } from './api.js';
import type { Written } from './jobs.js';
import { type FlightNote, type LoadJob, MissJob } from './jobs.js';
import { writeShared } from './shared-write.js';
import { fenceTags, tagShared } from './tags.js';
import type { View } from './view.js';

/**
 * Runs the loader within the load limit and the timeouts, then stores its value in L1 and L2 (unless a
 * write superseded the load). When loading fails, times out or is refused and a stale value exists,
 * fail-safe serves it instead.
 */
export async function loadAndStore<T>(view: View, job: LoadJob<T>): Promise<T> {
  const { flight, key } = job;
  const core = view.core;
  const counters = view.counters;
  const { maxConcurrentLoads, softTimeoutMs, hardTimeoutMs } = core.options;
  if (core.loading >= maxConcurrentLoads) {
    counters.overloaded++;
    if (flight.stale !== undefined) return serveStale(view, job);
    throw new OverloadedError(key, maxConcurrentLoads);
  }
  const controller = new AbortController();
  const running = runLoader(view, job, controller);
  // Without timeouts (the default) there is nothing to race.
  const outcome =
    softTimeoutMs === Number.POSITIVE_INFINITY && hardTimeoutMs === Number.POSITIVE_INFINITY
      ? await running
      : await raceTimeouts(
          running,
          flight.stale === undefined ? Number.POSITIVE_INFINITY : softTimeoutMs,
          hardTimeoutMs,
        );
  if (outcome === 'soft') {
    counters.loadTimeouts++;
    const stale = serveStale(view, job);
    completeInBackground(view, job, running);
    return stale;
  }
  if (outcome === 'hard') {
    counters.loadTimeouts++;
    if (core.options.backgroundCompletion) completeInBackground(view, job, running);
    else controller.abort(new TimeoutError(key, hardTimeoutMs));
    if (flight.stale !== undefined) return serveStale(view, job);
    throw new TimeoutError(key, hardTimeoutMs);
  }
  if (!outcome.ok) {
    if (flight.stale !== undefined) return serveStale(view, job);
    throw new LoaderError(key, outcome.error);
  }
  return store(view, job, outcome);
}

/**
 * A load whose callers have been answered (stale, or a timeout) goes on as a flight of its own, so a
 * write meanwhile supersedes it like any other load; it fills the cache when it answers, and its
 * failure is counted, seen by nobody.
 */
export function completeInBackground<T>(view: View, job: LoadJob<T>, running: Promise<LoadSettled<T>>): void {
  view.core.flights
    .start(job.physical, (own) => {
      own.note = { explanation: undefined, callers: 0 } satisfies FlightNote;
      own.version = job.flight.version;
      own.stale = job.flight.stale;
      // Callers that join it from now on wait no longer than they would have for a load of their own.
      own.background = true;
      const late = new MissJob(own, job.physical, job.key, job.loader, job.settings);
      // The lock goes with the load (and is extended while it runs): another instance that took it now
      // would load the key a second time, and the older of the two loads could land last.
      late.lock = job.lock;
      job.lock = undefined;
      return running.then(async (settled) => {
        const l2 = view.core.options.l2;
        try {
          if (settled.ok) return await store(view, late, settled);
          view.counters.refreshErrors++;
          if (own.stale !== undefined) return serveStale(view, late);
          throw new LoaderError(job.key, settled.error);
        } finally {
          if (l2 !== undefined) await releaseLock(l2, late, settled.ok);
        }
      });
    })
    .promise.catch(() => {});
}

/** How a counted loader call ended: its value and how long it took on the cache's clock, or its error. */
export type CountedCall<V> =
  | { readonly ok: true; readonly value: V; readonly delta: number }
  | { readonly ok: false; readonly error: unknown };

/**
 * Runs one loader call — a single load or a batch — under the load count and the close signal, counted
 * and timed; settles, never rejects.
 */
export async function runCounted<V>(
  view: View,
  controller: AbortController,
  call: () => V | PromiseLike<V>,
): Promise<CountedCall<V>> {
  const core = view.core;
  core.controllers.add(controller);
  core.loading++;
  view.counters.loads++;
  const started = performance.now();
  // The load time XFetch weighs is read off the cache's clock, like the expiries it is compared with.
  const startedAt = view.clock.now();
  try {
    const value = await call();
    core.latency?.load(true, started, view.label);
    return { ok: true, value, delta: view.clock.now() - startedAt };
  } catch (error) {
    view.counters.loadErrors++;
    core.latency?.load(false, started, view.label);
    return { ok: false, error };
  } finally {
    core.loading--;
    core.controllers.delete(controller);
  }
}

/** Calls the loader with its context (`setTtl`, `setTags`, `stale`, `signal`); settles, never rejects. */
export async function runLoader<T>(view: View, job: LoadJob<T>, controller: AbortController): Promise<LoadSettled<T>> {
  const { flight, key, loader } = job;
  let ttlOverride: number | undefined;
  let tags: readonly string[] | undefined;
  const context: LoaderContext = {
    key,
    signal: controller.signal,
    setTtl(ttl: Duration) {
      ttlOverride = parseDuration(ttl, 'setTtl');
    },
    setTags(given: readonly string[]) {
      tags = checkTags(given, 'setTags');
    },
    stale: flight.stale?.value,
    refreshing: (flight.note as FlightNote | undefined)?.callers === 0,
  };
  const settled = await runCounted(view, controller, () =>
    loadTracing.start.hasSubscribers
      ? loadTracing.tracePromise(async () => loader(context), { key, namespace: view.label })
      : loader(context),
  );
  return settled.ok ? { ok: true, value: settled.value, ttlOverride, delta: settled.delta, tags } : settled;
}

/** Stores a loaded value in L1 and L2, unless the cache closed or a write superseded the load. */
export async function store<T>(
  view: View,
  job: LoadJob<T>,
  loaded: {
    readonly value: T;
    readonly ttlOverride: number | undefined;
    readonly delta: number;
    readonly tags: readonly string[] | undefined;
  },
): Promise<T> {
  const { flight, physical, key, settings } = job;
  const { value } = loaded;
  const core = view.core;
  const counters = view.counters;
  if (value === undefined || core.closed) return value;
  if (flight.superseded) {
    counters.superseded++;
    return value;
  }
  let written: Written;
  try {
    const tags = view.physicalTags(loaded.tags ?? settings.tags);
    written = core.store(counters, physical, key, value, settings, loaded.ttlOverride, loaded.delta, tags);
  } catch (error) {
    // The caller still gets what the loader produced; a value the cache cannot keep is counted, not fatal.
    if (!(error instanceof ValueTooLargeError || error instanceof InvalidValueError)) throw error;
    return value;
  }
  // A tagged value: its tags must not have been invalidated since the load began (tag fencing).
  const fenced = await fenceTags(core, counters, physical, written, flight.tagEpoch);
  if (fenced === 'invalidated') return value;
  // Waiters (and, with the distributed lock, other instances) are released once L2 holds the value.
  const outcome =
    fenced === 'deferred'
      ? 'deferred'
      : await writeShared(core, counters, physical, value, written, {
          kind: 'load',
          version: flight.version,
          fence: job.lock?.token,
        });
  if (outcome === 'invalidated') return value;
  await tagShared(core, counters, physical, written);
  // A load that finished after its callers got a stale copy: other instances may be serving that copy
  // (fail-safe backoff); tell them a newer value is there.
  if (flight.background && outcome === 'stored') core.publish('delete', physical);
  return value;
}

/**
 * Fail-safe: answers the flight with its stale value, which then counts as fresh for `graceBackoff`
 * in this instance's L1, so a failing source is asked again at most once per backoff.
 */
export function serveStale<T>(view: View, job: LoadJob<T>): T {
  const { flight, physical, key } = job;
  const stale = (flight.stale as { readonly value: unknown }).value;
  flight.servedStale = true;
  const l1 = view.l1;
  const core = view.core;
  if (l1 !== undefined && !flight.superseded) {
    const now = view.clock.now();
    const until = now + core.options.graceBackoffMs;
    // The L1 holds this very copy: extend it. Otherwise the copy came from L2 (newer than any copy the
    // L1 still holds): put it there.
    if (l1.peek(physical, now) !== stale || !l1.setFreshUntil(physical, until, now)) {
      try {
        core.fillL1(physical, key, stale, until, now);
      } catch (error) {
        if (!(error instanceof InvalidValueError)) throw error; // copyOnRead could not copy it: serve it once
      }
    }
  }
  return stale as T;
}

/**
 * After a load under the distributed lock: wake the waiters (`announce`, once the value is in L2) and
 * release it in one pipelined round trip — unless the load went on in the background, which took the
 * lock with it. Both are awaited: fire-and-forget measured 140 ms waits in the stampede bench, because a
 * process that exits right after lost the notification and its waiters fell back to polling.
 */
export async function releaseLock(l2: SharedTier, job: LoadJob<unknown>, announce: boolean): Promise<void> {
  const held = job.lock;
  if (held === undefined) return;
  job.lock = undefined;
  await Promise.all([announce ? l2.announceFill?.(job.physical) : undefined, held.release()]);
}
