/**
 * The interface of a shared (L2) tier. Redis is the one tiercache ships; any store that can get, set
 * with a TTL, delete and clear by prefix can be plugged in. Keys are physical keys (see `keys.ts`);
 * the tier adds its own prefix and escaping.
 */
import type { Envelope } from './entry.js';
import type { TierUnavailableError } from './errors.js';

/** A held distributed lock. */
export interface LockHandle {
  /**
   * The holder's fencing token: a load stores with it ({@link SharedTier.setIfVersion}), and the store is
   * refused if the lock has moved on to another holder (or lapsed) meanwhile.
   */
  readonly token?: string;
  /** Releases the lock if this holder still owns it (compare-and-delete); never throws. */
  release(): Promise<void>;
  /**
   * Extends the lock to `ttlMs` from now if this holder still owns it; `false` if it does not (or the
   * tier did not answer). Never throws. A holder extends its lock while its load runs.
   */
  extend?(ttlMs: number): Promise<boolean>;
}

/** An invalidation carried by the bus: a key id or a prefix, never a value. */
export interface InvalidationMessage {
  /**
   * `delete`: drop one key; `expire`: keep the key only as a stale fallback (see `Cache.expire`);
   * `clear`: drop every key starting with `key` (`''`: everything); `tag`: drop every key this instance
   * cached with the tag `key` (a physical tag), and store no load of its namespace now in flight.
   */
  readonly op: 'delete' | 'expire' | 'clear' | 'tag';
  /** A physical key, or a physical key prefix. */
  readonly key: string;
  /** Who published it; a subscriber registered with the same origin does not receive it. */
  readonly origin?: string;
}

/**
 * What the bus hands a subscriber: a message from another instance, or `'gap'` when messages may
 * have been lost (a sequence gap or a reconnect), after which the subscriber's L1 is suspect.
 */
export type BusEvent = InvalidationMessage | 'gap';

/**
 * What every shared tier does: get, set with a TTL, delete, clear by prefix. Every method may reject with
 * a `TierUnavailableError`; none may hang. The capabilities below add what the tier can do beyond it;
 * the cache asks for each and works without it (see {@link SharedTier}).
 */
export interface SharedTierCore {
  /** A short name for stats and errors, e.g. `redis`. */
  readonly name: string;
  /** The entry for a key, or `undefined` on a miss (including bytes that do not decode). */
  get(key: string): Promise<Envelope | undefined>;
  /**
   * Stores an entry that the tier drops after `ttlMs`. This is a write: on a versioned tier it moves
   * the key's version, so loads that started before it cannot store their (older) values.
   */
  set(key: string, envelope: Envelope, ttlMs: number): Promise<void>;
  /** Removes a key (a write: moves the version too). */
  delete(key: string): Promise<void>;
  /** Removes every key that starts with `keyPrefix` (`''`: every key of this cache). */
  clear(keyPrefix: string): Promise<void>;
  /** Releases what the tier opened (not a client the caller passed in). */
  close(): Promise<void>;
  /**
   * For a tier without an invalidation bus: how long an instance's L1 copy of its entries may count as
   * fresh at most — the longest another instance's write can go unseen. Ignored when the tier has a bus.
   */
  readonly l1FreshnessMs?: number | undefined;
  /**
   * Subscribes to the tier's connection failures (the cache re-emits them as its `error` event).
   * @returns a function that unsubscribes.
   */
  onError?(listener: (error: TierUnavailableError) => void): () => void;
}

/**
 * Per-key versions: closes the stale-set race (a load reads the database, a write lands and invalidates,
 * the load then stores its old value for a whole TTL) and makes every write conditional. Every write
 * moves the key's version; a load reads the version before it queries and stores with
 * {@link VersionedTier.setIfVersion}, which drops the store if the version moved. Without it, loads and
 * writes store blind.
 */
export interface VersionedTier {
  /**
   * Versioned tiers close the stale-set race (a load reads the database, a write lands and invalidates,
   * the load then stores its old value for a whole TTL): every write moves a per-key version; a load
   * reads the version before it queries and stores with {@link setIfVersion}, which drops the store if
   * the version moved. `getVersioned` is `get` plus the version in one round trip; `version` alone is for
   * a background refresh of a key that is still cached.
   */
  getVersioned(key: string): Promise<{
    readonly envelope: Envelope | undefined;
    readonly version: string;
    /** The tag epoch now, on a tier with {@link fenceTags}. */
    readonly tagEpoch?: string;
  }>;
  /** The key's version now: an opaque token (see {@link getVersioned}). */
  version(key: string): Promise<string>;
  /**
   * Stores a loaded entry only if the key's version is still `version` and, given a `fence` (the token of
   * the lock the load ran under), only if that lock is still held with it; a store moves the version,
   * so a load that started before it cannot land over it. @returns whether it stored.
   */
  setIfVersion(key: string, envelope: Envelope, ttlMs: number, version: string, fence?: string): Promise<boolean>;
  /**
   * A write-through's store: if the version is still `version` (read before the database write), store
   * and move it; otherwise another write raced this one and nobody knows which reached the database
   * last, so remove the key (and move the version) and let the next read load. @returns whether it stored.
   */
  writeIfVersion(key: string, envelope: Envelope, ttlMs: number, version: string): Promise<boolean>;
  /**
   * Marks a key's entry expired at `at` (epoch ms) but keeps it for its grace, value and tags unchanged;
   * a write (moves the version). Without it, the cache reads the entry and writes it back.
   */
  expire?(key: string, at: number): Promise<void>;
}

/**
 * Tags across instances: each tag's keys, a key's own tags, and (with `fenceTags` and `tagEpoch`) the
 * fencing of loads against tag invalidations. Without it, tags live in each instance's L1 only.
 */
export interface TaggingTier {
  /** Records that `keys` carry `tag` (physical, namespaced), for at least `ttlMs`. */
  tagKeys(tag: string, keys: readonly string[], ttlMs: number): Promise<void>;
  /**
   * Closes the stale-set race for tags: before a load stores a value carrying `tags`, records the key
   * under each, and says whether none of them was invalidated since `tagEpoch` (from
   * {@link getVersioned}, read before the load queried). `false`: the load must not store.
   */
  fenceTags?(tags: readonly string[], key: string, ttlMs: number, tagEpoch: string): Promise<boolean>;
  /** The tag epoch now (see {@link fenceTags}): a write-through reads it before the database write. */
  tagEpoch?(): Promise<string>;
  /**
   * Forgets a tag, removes every key that still carries it (a write: moves their versions; a key
   * rewritten since without the tag stays). @returns the keys removed, and the keys of the tag whose
   * removal the tier did not confirm (the cache removes those once the tier answers again). Rejects only
   * if the tag itself could not be taken.
   */
  takeTag(tag: string): Promise<{ readonly removed: readonly string[]; readonly unconfirmed: readonly string[] }>;
}

/**
 * Distributed single-flight: a per-key load lock with fill notifications. Without it, each instance loads
 * a missing key once (single-flight within the process only).
 */
export interface LockingTier {
  /** Tries to take the load lock of a key for `ttlMs`; `undefined` when another holder has it. */
  tryLock(key: string, ttlMs: number): Promise<LockHandle | undefined>;
  /** Resolves (never rejects) when any instance announces that the key's value landed, or after `timeoutMs`. */
  waitForFill(key: string, timeoutMs: number): Promise<void>;
  /** Announces that the key's value landed. Never throws. */
  announceFill(key: string): Promise<void>;
}

/**
 * Invalidations between instances (pub/sub). Without it, another instance's L1 copy lives until its TTL:
 * bound that TTL, or the L1's, accordingly.
 */
export interface InvalidationBus {
  /** Queues an invalidation for the other instances; retried until sent. Never throws. */
  publishInvalidation(message: InvalidationMessage): void;
  /**
   * Subscribes to invalidations published with another origin (another cache instance, in this
   * process or elsewhere). @returns a function that unsubscribes.
   */
  onInvalidation(handler: (event: BusEvent) => void, origin?: string): () => void;
  /**
   * Resolves once every invalidation published so far has left for the other instances (at once if none
   * is pending, or the bus is closed). Never rejects. Optional: without it, publishing counts as sent.
   */
  invalidationsSent?(): Promise<void>;
}

/** Spreading a hot key's reads over copies (Redis Cluster masters). */
export interface HotKeyCopies {
  /**
   * The keys this instance reads hot now (physical), pushed by the cache every second: a tier that can
   * spread a hot key's reads (copies on other Redis Cluster masters) does so for these.
   */
  setHotKeys(keys: readonly string[]): void;
}

/**
 * A shared tier: the core, and whichever capabilities it has. Redis has them all; a user's own tier
 * states what it supports by implementing those methods (all of one capability's, or none).
 */
export interface SharedTier
  extends SharedTierCore,
    Partial<VersionedTier>,
    Partial<TaggingTier>,
    Partial<LockingTier>,
    Partial<InvalidationBus>,
    Partial<HotKeyCopies> {}
