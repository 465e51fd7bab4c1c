/**
 * The CPU the miss-ratio curve's simulations may use: a token bucket of milliseconds that fills at
 * `share` of the time that passes (0.03: 30 ms a second) and holds at most one second's worth. A
 * simulation runs only while the bucket holds time, and pays what it measured. Monitoring must not take
 * the CPU it monitors: unbounded, the curve of a 1,000-entry L1 (every access sampled, ~12 µs each at
 * seven tuned sizes) took 60 % of a server-like loop's time.
 */

/** Time tokens for simulation work. A class: long-lived, touched per batch. */
export class SimulationBudget {
  readonly #share: number;
  readonly #now: () => number;
  readonly #capMs: number;
  #tokens: number;
  #last: number;
  /** Milliseconds spent since the last {@link takeSpent}. */
  #spent = 0;

  /**
   * @param share Share of one core, in (0, 1].
   * @param now A monotonic clock in ms (`performance.now`; tests pass their own).
   */
  constructor(share: number, now: () => number) {
    this.#share = share;
    this.#now = now;
    this.#capMs = share * 1000;
    this.#tokens = this.#capMs;
    this.#last = now();
  }

  /** Whether there is time left to spend now (refills first). */
  available(): boolean {
    const now = this.#now();
    this.#tokens = Math.min(this.#capMs, this.#tokens + (now - this.#last) * this.#share);
    this.#last = now;
    return this.#tokens > 0;
  }

  /**
   * Runs `step` while time is left, `step` reports more to do, and `maxMs` has not passed; pays for it.
   * @returns whether `step` still had work when it stopped.
   */
  run(step: () => boolean, maxMs = Number.POSITIVE_INFINITY): boolean {
    if (!this.available()) return true;
    const start = this.#now();
    let more = true;
    let now = start;
    while (more && this.#tokens > now - start && now - start < maxMs) {
      more = step();
      now = this.#now();
    }
    const spent = now - start;
    this.#tokens -= spent;
    this.#last = now;
    this.#spent += spent;
    return more;
  }

  /** Milliseconds spent since the last call (for the curve's rate control). */
  takeSpent(): number {
    const spent = this.#spent;
    this.#spent = 0;
    return spent;
  }
}
