/**
 * The records a miss makes: the load job, the note a flight's joiners share, a batch key. Each is a class,
 * not an object literal: V8 may allocate a literal's objects in the old generation for good after one
 * burst where they all survived a young collection (see stampede/single-flight.ts).
 */
import type { MissExplanation } from '../core.js';
import type { WriteSettings } from '../options/resolve.js';
import type { HeldLock } from '../stampede/held-lock.js';
import type { Flight, StaleCopy } from '../stampede/single-flight.js';
import type { Loader } from './api.js';

/** What kind of shared-tier write `writeShared` makes (see `shared-write.ts`). */
export type SharedWrite =
  | { readonly kind: 'write' }
  | { readonly kind: 'writeThrough'; readonly version: string | undefined; readonly tagEpoch: string | undefined }
  | { readonly kind: 'load'; readonly version: string | undefined; readonly fence: string | undefined };

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

/** One load to run: the flight it serves, the key (physical and as the caller gave it), how, and the TTLs. */
export interface LoadJob<T> {
  readonly flight: Flight<unknown>;
  readonly physical: string;
  readonly key: string;
  readonly loader: Loader<T>;
  readonly settings: WriteSettings;
  /**
   * The distributed lock the load runs under, while this job owns it: its token fences the store. A load
   * that goes on in the background after its callers were answered takes the lock with it.
   */
  lock: HeldLock | undefined;
}

/**
 * The {@link LoadJob} of a miss. Objects made on every miss are class instances, not object literals:
 * V8 may decide to allocate a literal's objects in the old generation for good after one burst where
 * they all survived a young collection, and an old job would keep its flight, promise and value alive
 * until the next full GC (see single-flight.ts).
 */
export class MissJob<T> implements LoadJob<T> {
  lock: HeldLock | undefined = undefined;
  constructor(
    readonly flight: Flight<unknown>,
    readonly physical: string,
    readonly key: string,
    readonly loader: Loader<T>,
    readonly settings: WriteSettings,
  ) {}
}

/** What a flight's joiners share: the owner's miss explanation, and how many callers wait on it. */
export interface FlightNote {
  readonly explanation: MissExplanation;
  callers: number;
}

/** The {@link FlightNote} of a miss (a class for the reason {@link MissJob} is one). */
export class MissNote implements FlightNote {
  callers = 1;
  constructor(readonly explanation: MissExplanation) {}
}

/**
 * One key of a getOrLoadMany batch that has to be looked up beyond the L1: its flight, and the answer the
 * batch settles it with (a class, like {@link MissJob}).
 */
export class BatchKey {
  flight: Flight<unknown> | undefined = undefined;
  readonly answer: Promise<unknown>;
  succeed!: (value: unknown) => void;
  fail!: (error: unknown) => void;
  constructor(
    readonly key: string,
    readonly physical: string,
    readonly stale: StaleCopy | undefined,
    readonly explanation: MissExplanation,
  ) {
    this.answer = new Promise((resolve, reject) => {
      this.succeed = resolve;
      this.fail = reject;
    });
  }

  /** The key's load job, for storing or serving stale like a single load. */
  job(settings: WriteSettings): LoadJob<unknown> {
    return new MissJob(this.flight as Flight<unknown>, this.physical, this.key, unusedLoader, settings);
  }
}

/** The loader of a batch key's job: the batch loads, never the job. */
export const unusedLoader: Loader<unknown> = () => {
  throw new Error('a batch key is loaded by its batch');
};

/**
 * What a `loadMany` returned, as a Map. A Map or a plain object keyed by the caller's keys; anything
 * else — an array above all, whose indexes would be read as keys and cache the wrong record under a
 * key — is refused (the batch fails with a LoaderError saying so).
 */
export function batchValues<T>(loaded: unknown): ReadonlyMap<string, T> {
  if (loaded instanceof Map) return loaded as ReadonlyMap<string, T>;
  if (typeof loaded !== 'object' || loaded === null || Array.isArray(loaded)) {
    const what = Array.isArray(loaded) ? 'an array' : loaded === null ? 'null' : typeof loaded;
    throw new TypeError(
      `loadMany returned ${what}; return a Map (or a plain object) from each requested key to its value.`,
    );
  }
  return new Map(Object.entries(loaded as Record<string, T>));
}
