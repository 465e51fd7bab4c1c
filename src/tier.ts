/**
 * The interface of a shared (L2) tier. Redis is the one tiercache ships; any store that can get, set
 * with a TTL, delete and clear by prefix can be plugged in. Keys are physical keys (see `keys.ts`);
 * the tier adds its own prefix and escaping.
 */
import type { Envelope } from './entry.js';

/** A shared tier. Every method may reject with a `TierUnavailableError`; none may hang. */
export interface SharedTier {
  /** A short name for stats and errors, e.g. `redis`. */
  readonly name: string;
  /** The entry for a key, or `undefined` on a miss (including bytes that do not decode). */
  get(key: string): Promise<Envelope | undefined>;
  /** Stores an entry that the tier drops after `ttlMs`. */
  set(key: string, envelope: Envelope, ttlMs: number): Promise<void>;
  /** Removes a key. */
  delete(key: string): Promise<void>;
  /** Removes every key that starts with `keyPrefix` (`''`: every key of this cache). */
  clear(keyPrefix: string): Promise<void>;
  /** Releases what the tier opened (not a client the caller passed in). */
  close(): Promise<void>;
}
