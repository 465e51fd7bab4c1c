/**
 * The shared tier's writes: a `set`, a load's fenced store, a write-through's conditional store — each
 * checked against the key's version (and a load's lock token, and a tagged value's tag epoch), so no
 * write lands over a newer one; what the tier did not confirm is handed to the repair.
 */
import type { CacheCore } from '../core.js';
import type { Envelope } from '../entry.js';
import { InvalidValueError, TierUnavailableError, ValueTooLargeError } from '../errors.js';
import type { Counters } from '../metrics/stats.js';
import type { SharedTier } from '../tier.js';
import type { WriteOutcome } from './api.js';
import type { SharedWrite, Written } from './jobs.js';

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
export async function writeShared(
  core: CacheCore,
  counters: Counters,
  physical: string,
  value: unknown,
  written: Written,
  kind: SharedWrite,
): Promise<WriteOutcome> {
  const l2 = core.options.l2;
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
    const ttlMs = written.ttl + core.options.graceMs;
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
      core.unconfirmed(counters, physical);
      return 'deferred';
    }
    if (error instanceof InvalidValueError || error instanceof ValueTooLargeError) {
      counters.l2Refused++;
      if (kind.kind !== 'load') throw error;
      core.reportOnce(counters, error);
      return 'deferred';
    }
    throw error;
  }
  if (stored) {
    core.repair?.confirmed(physical);
    return 'stored';
  }
  if (kind.kind === 'load') counters.staleLoadsDropped++;
  else counters.writeConflicts++;
  core.l1?.delete(physical, core.options.clock.now());
  return 'invalidated';
}
