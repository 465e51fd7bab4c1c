/**
 * The write path: `set`, `delete`, `expire`, `writeThrough`, tag invalidation and `clear`, over a
 * namespace's {@link View}. Every write supersedes the key's load in flight here, goes to the shared tier
 * conditionally (versions; see `shared-write.ts`), and is published on the bus; a write the shared
 * tier did not confirm is remembered for repair (`repair.ts`).
 */

import { CacheClosedError, ConfigError } from '../errors.js';
import { physicalKey } from '../keys.js';
import { checkTags, resolveCallOptions } from '../options/resolve.js';
import type { CallOptions } from '../options.js';
import type { WriteOutcome } from './api.js';
import type { SharedWrite } from './jobs.js';
import { writeShared } from './shared-write.js';
import { tagShared, takeTag } from './tags.js';
import type { View } from './view.js';

/** A plain write to the shared tier (`set`). */
const WRITE: SharedWrite = { kind: 'write' };

/** `set`, or a write-through's store (`kind`: with the version read before the database write). */
export async function write(
  view: View,
  key: string,
  value: unknown,
  options: CallOptions | undefined,
  kind: SharedWrite = WRITE,
): Promise<WriteOutcome> {
  const core = view.core;
  view.checkWritable(key, value);
  const settings = resolveCallOptions(core.options, options);
  const physical = physicalKey(view.prefix, key);
  core.flights.supersedeKey(physical);
  const written = core.store(
    view.counters,
    physical,
    key,
    value,
    settings,
    undefined,
    0,
    view.physicalTags(settings.tags),
  );
  let outcome: WriteOutcome;
  try {
    outcome = await writeShared(core, view.counters, physical, value, written, kind);
  } catch (error) {
    // The shared tier cannot hold it: keep no copy anywhere rather than one other instances never see.
    view.l1?.delete(physical, view.clock.now());
    core.untag(physical);
    throw error;
  }
  if (outcome === 'invalidated') core.untag(physical);
  else await tagShared(core, view.counters, physical, written);
  core.publish('delete', physical);
  return outcome;
}

/** `delete`: removes a key everywhere; a load of it in flight will not store. @returns whether the L1 held it. */
export async function remove(view: View, key: string): Promise<boolean> {
  view.check(key);
  const physical = physicalKey(view.prefix, key);
  view.core.flights.supersedeKey(physical);
  const wasCached = view.l1?.delete(physical, view.clock.now()) ?? false;
  view.core.untag(physical);
  await view.core.tryShared(view.counters, (l2) => l2.delete(physical), physical);
  view.core.publish('delete', physical);
  return wasCached;
}

/** `expire`: stale from now, kept for its grace as fail-safe's fallback, here and everywhere. */
export async function expire(view: View, key: string): Promise<void> {
  view.check(key);
  const physical = physicalKey(view.prefix, key);
  const core = view.core;
  core.flights.supersedeKey(physical);
  const now = view.clock.now();
  view.l1?.setFreshUntil(physical, now, now);
  await core.tryShared(
    view.counters,
    async (l2) => {
      if (l2.expire !== undefined) return l2.expire(physical, now);
      // A tier without an expire of its own: read the entry and write it back, marked expired.
      const envelope = await l2.get(physical);
      if (envelope === undefined || envelope.expiresAt <= now) return;
      const keepMs = envelope.expiresAt + core.options.graceMs - now;
      await l2.set(physical, { ...envelope, expiresAt: now }, Math.max(1, keepMs));
    },
    physical,
  );
  core.publish('expire', physical);
}

/** `writeThrough`: the database first (`persist`), then the cache, conditional on the key's version. */
export async function writeThrough<T>(
  view: View,
  key: string,
  value: T,
  persist: (value: T) => unknown,
  options: CallOptions | undefined,
): Promise<WriteOutcome> {
  view.check(key);
  if (typeof persist !== 'function') {
    throw new ConfigError(
      'persist',
      `writeThrough needs a function (value) => your database write, got ${typeof persist}.`,
    );
  }
  // What the cache would refuse is refused before the database is written.
  view.checkWritable(key, value);
  const l2 = view.core.options.l2;
  if (l2?.writeIfVersion === undefined || l2.version === undefined) {
    // The source of truth first: a cache that is ahead of its database serves what never happened.
    await persist(value);
    return write(view, key, value, options);
  }
  // Optimistic: note the key's version, write the database, then store only if no other write moved
  // the version meanwhile. Two racing writers cannot tell whose database write landed last, so on a
  // race the key is invalidated instead, and the next read loads what the database holds.
  // The tag epoch too, when the value carries tags: an invalidation of one of them after this point may
  // have been meant for the row as it will be after `persist` (see SharedTier.fenceTags).
  const tagged = (options?.tags?.length ?? 0) > 0 && l2.tagEpoch !== undefined;
  const [version, tagEpoch] = await Promise.all([
    l2.version(physicalKey(view.prefix, key)).catch(() => undefined),
    tagged ? l2.tagEpoch?.().catch(() => undefined) : undefined,
  ]);
  await persist(value);
  // Without a version (L2 down) the store reads one itself, and if that fails too it is deferred.
  const known = version !== undefined && (!tagged || tagEpoch !== undefined);
  return write(view, key, value, options, known ? { kind: 'writeThrough', version, tagEpoch } : WRITE);
}

/** `invalidateTags`: removes every key carrying one of the tags, here, in the shared tier and in every instance. */
export async function invalidateTags(view: View, tags: readonly string[]): Promise<number> {
  const core = view.core;
  if (core.closed) throw new CacheClosedError();
  checkTags(tags, 'tags');
  const counters = view.counters;
  // Removed from the shared tier already (it checked each key still carries the tag): drop the copies.
  const removed = new Set<string>();
  // Known only here (written by this instance, with the tag): drop the L1 copy; remove it from the shared
  // tier too when the tier could not be asked.
  const local = new Set<string>();
  const unasked = new Set<string>();
  // A load in flight here may end up carrying one of these tags (a loader's setTags is only known when
  // it returns): none of this namespace's loads now running stores. (Other instances' loads are fenced
  // by the shared tier's tag epoch.)
  const prefix = view.prefix;
  core.flights.supersede(prefix === '' ? undefined : (physical) => physical.startsWith(prefix));
  for (const tag of view.physicalTags(tags)) {
    const taken = await takeTag(core, counters, tag);
    // Other instances drop what they cached with the tag, including values only their L1 holds.
    core.publish('tag', tag);
    for (const key of taken.local) (taken.shared === undefined ? unasked : local).add(key);
    for (const key of taken.shared ?? []) removed.add(key);
  }
  const now = view.clock.now();
  const drop = (physical: string) => {
    core.flights.supersedeKey(physical);
    view.l1?.delete(physical, now);
  };
  for (const physical of local) drop(physical);
  for (const physical of removed) {
    drop(physical);
    core.publish('delete', physical);
  }
  await Promise.all(
    [...unasked].map(async (physical) => {
      if (removed.has(physical)) return;
      drop(physical);
      // A delete moves the key's version too: a load of it in flight anywhere will not store.
      await core.tryShared(counters, (l2) => l2.delete(physical), physical);
      core.publish('delete', physical);
    }),
  );
  return new Set([...local, ...removed, ...unasked]).size;
}

/** `clear`: removes every key of the view's namespace (on the root: of every namespace), everywhere. */
export async function clear(view: View): Promise<void> {
  const core = view.core;
  if (core.closed) throw new CacheClosedError();
  const prefix = view.prefix;
  const now = view.clock.now();
  if (prefix === '') {
    core.flights.supersede();
    view.l1?.clear(now);
  } else {
    const inNamespace = (physical: string) => physical.startsWith(prefix);
    core.flights.supersede(inNamespace);
    view.l1?.deleteWhere(inNamespace, now);
  }
  // A clear that does not reach the shared tier is not a clear: its failure rejects.
  await core.options.l2?.clear(prefix);
  core.publish('clear', prefix);
}
