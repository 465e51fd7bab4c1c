/**
 * The deadlines of the commands in flight, for a tier whose calls all share one timeout.
 *
 * One timeout for every call means deadlines arrive in the order the calls were issued, so the calls
 * form a queue sorted by deadline: a sweep looks at the head only, and a settled call just empties its
 * slot. A ring of slots rather than a `Set` or a timer per call, because those were measured to cost
 * an L2 hit dearly: a `Set` of the calls in flight made V8 copy and promote about 1 MB of short-lived
 * objects per scavenge (`--trace-gc-nvp`), and the L2-hit benchmark spent a quarter of its time in GC.
 */

/** What to do when a call's deadline passes before it settled. */
export type OnExpired = () => void;

const INITIAL_CAPACITY = 1024;

/** A FIFO of calls with non-decreasing deadlines. */
export class Deadlines {
  #expired: (OnExpired | undefined)[] = new Array(INITIAL_CAPACITY).fill(undefined);
  #deadlines = new Float64Array(INITIAL_CAPACITY);
  #mask = INITIAL_CAPACITY - 1;
  /** Sequence number of the oldest slot still held. */
  #head = 0;
  /** Sequence number the next call gets. */
  #tail = 0;
  /** Calls added and not yet settled or expired. */
  #live = 0;

  /** Calls in flight. */
  get size(): number {
    return this.#live;
  }

  /**
   * Adds a call; its deadline must not be earlier than any before it.
   * @returns The call's ticket, for {@link settle}.
   */
  add(deadline: number, onExpired: OnExpired): number {
    if (this.#tail - this.#head > this.#mask) this.#grow();
    const ticket = this.#tail++;
    const slot = ticket & this.#mask;
    this.#expired[slot] = onExpired;
    this.#deadlines[slot] = deadline;
    this.#live++;
    return ticket;
  }

  /** Forgets a call that settled; a ticket already expired (or settled) is ignored. */
  settle(ticket: number): void {
    if (ticket < this.#head) return;
    const slot = ticket & this.#mask;
    if (this.#expired[slot] === undefined) return;
    this.#expired[slot] = undefined;
    this.#live--;
  }

  /** Calls `onExpired` of every call whose deadline is at or before `now`, oldest first, and forgets it. */
  expire(now: number): void {
    while (this.#head < this.#tail) {
      const slot = this.#head & this.#mask;
      const onExpired = this.#expired[slot];
      if (onExpired !== undefined) {
        if ((this.#deadlines[slot] as number) > now) return;
        this.#expired[slot] = undefined;
        this.#live--;
        this.#head++;
        onExpired();
      } else {
        this.#head++;
      }
    }
  }

  /** Doubles the ring, keeping every held slot at its ticket's new position. */
  #grow(): void {
    const capacity = (this.#mask + 1) * 2;
    const expired: (OnExpired | undefined)[] = new Array(capacity).fill(undefined);
    const deadlines = new Float64Array(capacity);
    for (let ticket = this.#head; ticket < this.#tail; ticket++) {
      expired[ticket & (capacity - 1)] = this.#expired[ticket & this.#mask];
      deadlines[ticket & (capacity - 1)] = this.#deadlines[ticket & this.#mask] as number;
    }
    this.#expired = expired;
    this.#deadlines = deadlines;
    this.#mask = capacity - 1;
  }
}
