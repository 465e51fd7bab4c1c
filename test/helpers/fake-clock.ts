/** A clock the test moves by hand, so expiry tests never sleep. */
import type { Clock } from '../../src/index.js';

/** A {@link Clock} that only moves when told. */
export class FakeClock implements Clock {
  #now: number;

  constructor(start = 1_000_000) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Moves time forward. */
  advance(ms: number): void {
    this.#now += ms;
  }
}

/** A promise with its resolve and reject, for holding a loader open until the test lets it go. */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
