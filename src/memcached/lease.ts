/** A Memcached lease as the cache's `LockHandle` (see `memcached-tier.ts` for how leases work). */
import type { LockHandle } from '../tier.js';

/** What a lease needs of its tier: rewrite it under compare-and-swap, or turn it back into a tombstone. */
export interface LeaseStore {
  renewLease(key: string, token: string, ttlMs: number): Promise<string | undefined>;
  releaseLease(key: string, token: string): Promise<void>;
}

/** A held lease: its CAS is the fencing token, and moves when the lease is renewed. */
export class Lease implements LockHandle {
  #token: string;
  readonly #tier: LeaseStore;
  readonly #key: string;

  constructor(tier: LeaseStore, key: string, token: string) {
    this.#tier = tier;
    this.#key = key;
    this.#token = token;
  }

  get token(): string {
    return this.#token;
  }

  async release(): Promise<void> {
    await this.#tier.releaseLease(this.#key, this.#token).catch(() => undefined);
  }

  async extend(ttlMs: number): Promise<boolean> {
    const token = await this.#tier.renewLease(this.#key, this.#token, ttlMs).catch(() => undefined);
    if (token === undefined) return false;
    this.#token = token;
    return true;
  }
}
