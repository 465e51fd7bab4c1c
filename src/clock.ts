/**
 * The default clock. Reading the time costs ~40 ns in V8 — more than the rest of an L1 hit's
 * bookkeeping — so the clock reads `Date.now()` once and serves that reading until a 1 ms timer
 * (unref'd: it never keeps the process alive) clears it: lru-cache's `ttlResolution` trick. The timer
 * only runs while the clock is being read, so an idle cache schedules nothing.
 *
 * Consequence: within one uninterrupted run of synchronous code and microtasks, time stands still;
 * an entry is judged by the time at the start of that run. Real servers yield to I/O constantly; a
 * test or tool that needs exact time injects its own clock.
 */
import type { Clock } from './options.js';

/** How long one reading of `Date.now()` is served, in ms. */
const RESOLUTION_MS = 1;

/** A {@link Clock} over `Date.now()` with 1 ms resolution. */
export class CoarseClock implements Clock {
  #now = 0;
  readonly #expire = (): void => {
    this.#now = 0;
  };

  now(): number {
    if (this.#now !== 0) return this.#now;
    const now = Date.now();
    this.#now = now;
    setTimeout(this.#expire, RESOLUTION_MS).unref();
    return now;
  }
}
