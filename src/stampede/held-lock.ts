/**
 * A distributed load lock while its holder works: extended every third of its TTL for as long as the
 * load runs (Redisson's watchdog), released exactly once. The holder stores with the lock's token, and
 * the shared tier refuses that store if the lock has moved on — so the only holder that loses its lock
 * is one that stalled (a pause, a partition) past the TTL, and that holder's value never lands
 * (Kleppmann, "How to do distributed locking", 2016: a lock without a fencing token is not safe).
 */
import type { LockHandle } from '../tier.js';

/** Extensions per lock TTL: a holder misses two in a row before another instance can take the lock. */
const EXTENSIONS_PER_TTL = 3;

/** A lock held for one load (a class: it lives across awaits, see single-flight.ts). */
export class HeldLock {
  readonly #handle: LockHandle;
  #timer: NodeJS.Timeout | undefined;
  #released: Promise<void> | undefined;
  /** Set when an extension found the lock gone: the store will be refused. */
  lost = false;

  constructor(handle: LockHandle, ttlMs: number) {
    this.#handle = handle;
    const extend = handle.extend;
    if (extend === undefined) return;
    this.#timer = setInterval(
      () => {
        void extend.call(handle, ttlMs).then((held) => {
          if (held || this.#released !== undefined) return;
          this.lost = true;
          clearInterval(this.#timer);
        });
      },
      Math.max(1, Math.floor(ttlMs / EXTENSIONS_PER_TTL)),
    );
    this.#timer.unref();
  }

  /** The token the store is fenced with (`undefined`: the tier does not fence). */
  get token(): string | undefined {
    return this.#handle.token;
  }

  /** Stops extending and releases the lock; the same promise on every call. Never rejects. */
  release(): Promise<void> {
    if (this.#released === undefined) {
      clearInterval(this.#timer);
      this.#released = this.#handle.release().catch(() => undefined);
    }
    return this.#released;
  }
}
