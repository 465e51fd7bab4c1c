/**
 * Tags across the tiers: recording a stored key's tags in the shared tier, fencing a load against tag
 * invalidations that happened while it ran, and taking a tag (its keys) out of every tier. This
 * instance's own index is `tag-index.ts`; applying another instance's tag invalidation is
 * `invalidation.ts`.
 */
import type { CacheCore } from '../core.js';
import { TierUnavailableError } from '../errors.js';
import type { Counters } from '../metrics/stats.js';
import type { SharedTier } from '../tier.js';
import type { WriteOutcome } from './api.js';
import type { Written } from './jobs.js';

/**
 * Records a stored key's tags in the shared tier's tag sets, for at least the entry's lifetime — on a
 * tier without tag fencing (one with it recorded them before storing, see {@link fenceTags}).
 */
export async function tagShared(
  core: CacheCore,
  counters: Counters,
  physical: string,
  written: Written,
): Promise<void> {
  const l2 = core.options.l2;
  const tags = written.tags;
  if (tags.length === 0 || l2?.tagKeys === undefined || l2.fenceTags !== undefined) return;
  const ttlMs = written.ttl + core.options.graceMs;
  await core.tryShared(counters, async (tier) => {
    await Promise.all(tags.map((tag) => tier.tagKeys?.(tag, [physical], ttlMs)));
  });
}

/**
 * Before a load stores a tagged value: joins the key to its tags in the shared tier and checks that
 * none was invalidated since the load began (see `SharedTier.fenceTags`). @returns `'stored'` when the
 * load may store (tags recorded), `'invalidated'` when a tag moved (the load is dropped here, counted),
 * `'deferred'` when the tier cannot tell (the load stays in this L1 only).
 */
export async function fenceTags(
  core: CacheCore,
  counters: Counters,
  physical: string,
  written: Written,
  tagEpoch: string | undefined,
): Promise<WriteOutcome> {
  const l2 = core.options.l2;
  if (l2?.fenceTags === undefined || written.tags.length === 0) return 'stored';
  if (tagEpoch === undefined) return 'deferred';
  try {
    if (await l2.fenceTags(written.tags, physical, written.ttl + core.options.graceMs, tagEpoch)) return 'stored';
  } catch (error) {
    if (!(error instanceof TierUnavailableError)) throw error;
    counters.l2Errors++;
    return 'deferred';
  }
  counters.staleLoadsDropped++;
  core.l1?.delete(physical, core.options.clock.now());
  return 'invalidated';
}

/**
 * Forgets a tag here and in the shared tier; returns the keys that carry it now: those this instance
 * recorded, and those the shared tier confirmed. `shared` is false when the shared tier could not be
 * asked (the caller then treats every local key as a shared one too).
 */
export async function takeTag(
  core: CacheCore,
  counters: Counters,
  tag: string,
): Promise<{ local: Set<string>; shared: Set<string> | undefined }> {
  const local = core.tags.take(tag);
  const l2 = core.options.l2;
  if (l2 === undefined) return { local, shared: new Set() };
  if (l2.takeTag === undefined) return { local, shared: undefined };
  return { local, shared: await takeSharedTag(core, counters, l2, tag) };
}

/**
 * The shared tier's part of a tag invalidation. Keys whose removal it did not confirm are repaired like
 * unconfirmed writes; a tag it could not take at all is taken again once it answers (until then, other
 * instances may serve what the tag's keys held). @returns the keys removed, or `undefined` if the tag
 * could not be taken.
 */
async function takeSharedTag(
  core: CacheCore,
  counters: Counters,
  l2: SharedTier,
  tag: string,
): Promise<Set<string> | undefined> {
  try {
    const taken = await (l2.takeTag as NonNullable<SharedTier['takeTag']>)(tag);
    for (const key of taken.unconfirmed) core.unconfirmed(counters, key);
    core.repair?.confirmedTag(tag);
    return new Set(taken.removed);
  } catch (error) {
    if (!(error instanceof TierUnavailableError)) throw error;
    counters.l2Errors++;
    core.repair?.tag(counters, tag);
    return undefined;
  }
}
