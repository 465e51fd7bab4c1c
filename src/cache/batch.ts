/**
 * The batch path (`getOrLoadMany`): per key exactly what `getOrLoad` does — a fresh L1 copy answers, a
 * copy past its TTL is a miss that keeps the copy for fail-safe, a key already loading is joined — then
 * one pipelined shared-tier pass for the rest and **one** `loadMany` for what is still missing, under the
 * same load limit, soft and hard timeouts and fail-safe as a single load (judged per key), storing through
 * the same fenced store. A batch takes no distributed lock: it collapses loads within a process only.
 */

import type { MissExplanation } from '../core.js';
import { ConfigError, LoaderError, OverloadedError, TimeoutError } from '../errors.js';
import { type LoadSettled, raceTimeouts } from '../freshness.js';
import { physicalKey } from '../keys.js';
import { MISS } from '../memory/memory-tier.js';
import { resolveCallOptions, type WriteSettings } from '../options/resolve.js';
import type { CallOptions } from '../options.js';
import { StaleCopy } from '../stampede/single-flight.js';
import type { BatchLoader } from './api.js';
import { copyOut } from './copy-out.js';
import { BatchKey, batchValues, type FlightNote, type LoadJob, MissNote } from './jobs.js';
import * as runner from './load-runner.js';
import * as missPath from './miss-path.js';
import type { View } from './view.js';

export async function getOrLoadMany<T>(
  view: View,
  keys: readonly string[],
  loadMany: BatchLoader<T>,
  options?: CallOptions,
): Promise<(T | undefined)[]> {
  const core = view.core;
  if (!Array.isArray(keys)) throw new ConfigError('keys', 'getOrLoadMany needs an array of keys.');
  if (typeof loadMany !== 'function') {
    throw new ConfigError(
      'loadMany',
      `getOrLoadMany needs a function (keys) => Map of values, got ${typeof loadMany}.`,
    );
  }
  for (const key of keys) view.check(key);
  const settings = resolveCallOptions(core.options, options);
  const now = view.clock.now();
  const counters = view.counters;
  const l1 = view.l1;
  // Per key, exactly what getOrLoad does: a fresh L1 copy answers; a copy past its TTL is a miss that
  // keeps the copy as fail-safe's fallback; a key already loading is joined.
  const results = new Map<string, Promise<unknown> | unknown>();
  const batch: BatchKey[] = [];
  for (const key of new Set(keys)) {
    const physical = physicalKey(view.prefix, key);
    let stale: StaleCopy | undefined;
    if (l1 !== undefined) {
      const value = l1.get(physical, now);
      if (value !== MISS && now < l1.freshUntil) {
        counters.l1Hits++;
        results.set(key, value);
        continue;
      }
      if (value !== MISS) stale = new StaleCopy(value, l1.expiresAt);
      counters.l1Misses++;
    }
    const flight = core.flights.get(physical);
    if (flight !== undefined) {
      counters.collapsed++;
      (flight.note as FlightNote).callers++;
      results.set(key, flight.background ? missPath.joinLate(view, flight, key) : flight.promise);
      continue;
    }
    const explanation: MissExplanation =
      stale === undefined
        ? core.explainMiss(physical)
        : { cause: 'expired', at: l1?.freshUntil ?? now, evictionsSince: 0 };
    batch.push(new BatchKey(key, physical, stale, explanation));
  }
  if (batch.length > 0) {
    // One flight per key, so concurrent getOrLoad calls join them; the batch answers each.
    for (const item of batch) {
      // The batch counts its own read of each key; `callers` counts getOrLoad calls that join it.
      const note = new MissNote(item.explanation);
      note.callers = 0;
      const flight = core.flights.start(
        item.physical,
        (own) => {
          own.note = note;
          own.stale = item.stale;
          item.flight = own;
          return item.answer;
        },
        missPath.counterOf(view, note, now),
      );
      results.set(item.key, flight.promise);
    }
    void runBatch(view, batch, loadMany, settings, now);
  }
  const values = await Promise.all(keys.map((key) => results.get(key)));
  return (
    core.options.copyOnRead ? values.map((v, i) => (v === undefined ? v : copyOut(keys[i] as string, v))) : values
  ) as (T | undefined)[];
}

/**
 * The batch behind getOrLoadMany: L2 for every key (one round trip per node), then **one** `loadMany`
 * for the keys still missing — under the same load limit, soft and hard timeouts and fail-safe as a
 * single load, judged per key (a key with a stale copy is answered with it past `softTimeout`; the
 * batch goes on in the background and stores what it loads).
 */
export async function runBatch<T>(
  view: View,
  batch: BatchKey[],
  loadMany: BatchLoader<T>,
  settings: WriteSettings,
  now: number,
): Promise<void> {
  const core = view.core;
  const counters = view.counters;
  let missing = batch;
  if (core.options.l2 !== undefined) {
    // Issued in one tick: the client pipelines them.
    const found = await Promise.all(
      batch.map((item) =>
        core.readShared(counters, item.physical, item.key, item.flight, false, true).catch((error: unknown) => {
          item.fail(error);
          return undefined;
        }),
      ),
    );
    missing = [];
    batch.forEach((item, i) => {
      // (undefined: the lookup failed, and the key's callers have its error already)
      if (found[i] === MISS) missing.push(item);
      else if (found[i] !== undefined) {
        counters.l2Hits++;
        item.succeed(found[i]);
      }
    });
  }
  for (const item of missing) core.recordMiss(counters, item.explanation, now);
  if (missing.length === 0) return;
  const { maxConcurrentLoads, softTimeoutMs, hardTimeoutMs, backgroundCompletion } = core.options;
  if (core.loading >= maxConcurrentLoads) {
    counters.overloaded++;
    for (const item of missing) {
      if (item.stale !== undefined) serveBatchStale(view, item, item.job(settings));
      else item.fail(new OverloadedError(item.key, maxConcurrentLoads));
    }
    return;
  }
  const controller = new AbortController();
  const running = runBatchLoader(
    view,
    missing.map((item) => item.key),
    loadMany,
    controller,
  );
  let aborted = false;
  for (const item of missing) {
    const job = item.job(settings);
    const soft = item.stale === undefined ? Number.POSITIVE_INFINITY : softTimeoutMs;
    void raceTimeouts(running, soft, hardTimeoutMs).then((outcome) => {
      if (outcome === 'soft' || outcome === 'hard') {
        counters.loadTimeouts++;
        if (outcome === 'hard' && !backgroundCompletion && !aborted) {
          aborted = true;
          controller.abort(new TimeoutError(item.key, hardTimeoutMs));
        }
        if (item.stale !== undefined) serveBatchStale(view, item, job);
        else item.fail(new TimeoutError(item.key, hardTimeoutMs));
        return;
      }
      if (!outcome.ok) {
        if (item.stale !== undefined) serveBatchStale(view, item, job);
        else item.fail(new LoaderError(item.key, outcome.error));
      }
    });
    // Stored when the batch answers, whether or not this key's callers were answered already (a soft
    // timeout lets the batch complete in the background, like a single load).
    void running.then((settled) => {
      if (!settled.ok || aborted) return;
      const value = settled.value.get(item.key);
      item.succeed(runner.store(view, job, { value, ttlOverride: undefined, delta: settled.delta, tags: undefined }));
    });
  }
}

/** Answers a batch key with its stale copy (fail-safe), counted for the batch's own read of it. */
export function serveBatchStale(view: View, item: BatchKey, job: LoadJob<unknown>): void {
  view.counters.staleServed++;
  item.succeed(runner.serveStale(view, job));
}

/** Calls `loadMany` under the load count, counting and timing it; settles with its outcome, never rejects. */
export async function runBatchLoader<T>(
  view: View,
  keys: string[],
  loadMany: BatchLoader<T>,
  controller: AbortController,
): Promise<LoadSettled<ReadonlyMap<string, T>>> {
  const settled = await runner.runCounted(view, controller, async () =>
    batchValues<T>(await loadMany([...keys], { signal: controller.signal })),
  );
  return settled.ok
    ? { ok: true, value: settled.value, ttlOverride: undefined, delta: settled.delta, tags: undefined }
    : settled;
}
