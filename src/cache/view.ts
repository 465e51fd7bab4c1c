/**
 * A namespace's view of the cache: the shared core plus what is particular to one namespace path — its
 * key prefix, its counters, its label — and the checks every call makes. The facade (`cache.ts`) and the
 * paths in this folder take a view as their first argument, so each path is a module of functions over
 * explicit state rather than a method of one large class.
 */
import type { CacheCore } from '../core.js';
import { NO_TAGS } from '../core.js';
import { CacheClosedError, InvalidValueError } from '../errors.js';
import { isShortKey, keyError, malformedKeyError, namespacePrefix, physicalKey } from '../keys.js';
import type { MemoryTier } from '../memory/memory-tier.js';
import type { Counters } from '../metrics/stats.js';
import type { Clock } from '../options.js';

/** One namespace path over the shared core (a class: one per namespace view, read on every call). */
export class View {
  readonly core: CacheCore;
  readonly segments: readonly string[];
  /** The physical-key prefix of the namespace (`''` for the root). */
  readonly prefix: string;
  /** The namespace path as a label: `/` for the root, `/users/v2` below it. */
  readonly label: string;
  readonly counters: Counters;
  readonly l1: MemoryTier | undefined;
  readonly clock: Clock;
  readonly maxKeyLength: number;
  readonly copyOnRead: boolean;
  /** XFetch's beta (0: off) and random source. */
  readonly beta: number;
  readonly random: () => number;
  readonly graceMs: number;

  constructor(core: CacheCore, segments: readonly string[]) {
    this.core = core;
    this.segments = segments;
    this.prefix = namespacePrefix(segments);
    this.label = `/${segments.join('/')}`;
    this.counters = core.namespaces.for(this.label, segments);
    this.l1 = core.l1;
    this.clock = core.options.clock;
    this.maxKeyLength = core.options.maxKeyLength;
    this.copyOnRead = core.options.copyOnRead;
    this.beta = core.options.beta;
    this.random = core.options.random;
    this.graceMs = core.options.graceMs;
  }

  /** A call's tags as physical tags: namespaced and escaped exactly like keys, so no two namespaces share one. */
  physicalTags(tags: readonly string[] | undefined): readonly string[] {
    if (tags === undefined || tags.length === 0) return NO_TAGS;
    const prefix = this.prefix;
    return tags.map((tag) => physicalKey(prefix, tag));
  }

  /** @throws the key's error (too long, not a string, or not well-formed Unicode), or CacheClosedError. */
  check(key: string): void {
    const error = this.argumentError(key) ?? malformedKeyError(key);
    if (error !== undefined) throw error;
  }

  /** The error of a call's key (not its Unicode form: see {@link check}), or CacheClosedError. */
  argumentError(key: unknown): Error | undefined {
    if (this.core.closed) return new CacheClosedError(typeof key === 'string' ? key : undefined);
    return isShortKey(key, this.maxKeyLength) ? undefined : keyError(key, this.maxKeyLength);
  }

  /** The checks of a write: a usable key and a value other than `undefined`. */
  checkWritable(key: string, value: unknown): void {
    this.check(key);
    if (value === undefined) {
      throw new InvalidValueError(key, 'undefined cannot be cached; call delete(key) to remove a value.');
    }
  }
}
