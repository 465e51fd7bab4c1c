/**
 * In-process single-flight: concurrent calls for one key share one execution and its outcome
 * (groupcache's `singleflight`). The flight is forgotten as soon as it settles, so a failure is
 * never cached and the next call starts afresh.
 */

/** One execution in progress for a key. */
export interface Flight<T> {
  /** Settles with the execution's outcome; every caller of the key awaits this one promise. */
  readonly promise: Promise<T>;
  /**
   * Set when a write for the key arrived while the execution ran: its result is outdated and must be
   * returned to the callers who asked before the write, but not stored.
   */
  superseded: boolean;
  /** Set when the shared tier answered, so every caller of the flight can count a hit rather than a miss. */
  fromSharedTier: boolean;
  /** Whatever the flight's starter wants its joiners to see (the cache keeps the miss explanation here). */
  note: unknown;
  /** A value past its TTL but within grace, found on the way: what fail-safe serves if the load fails. */
  stale: { readonly value: unknown } | undefined;
  /** Set when the flight's callers got the stale value (the load failed, timed out, or was refused). */
  servedStale: boolean;
  /** The key's shared-tier version read before loading: the load stores only if it is unchanged. */
  version: string | undefined;
  /** The expiry and load time of the shared-tier entry that answered, if one did (for XFetch). */
  sharedEntry: { readonly expiresAt: number; readonly delta: number } | undefined;
}

/** A map of keys to their in-progress {@link Flight}s. */
export class SingleFlight<T> {
  readonly #flights = new Map<string, Flight<T>>();

  /** The flight in progress for a key, if any. */
  get(key: string): Flight<T> | undefined {
    return this.#flights.get(key);
  }

  /** Flights in progress. */
  get size(): number {
    return this.#flights.size;
  }

  /**
   * Starts the execution for a key that has no flight (check {@link get} first).
   * @param run Receives its own flight, so it can see whether it was superseded before it stores.
   */
  start(key: string, run: (flight: Flight<T>) => Promise<T>): Flight<T> {
    const flight: Flight<T> & { promise: Promise<T> } = {
      promise: undefined as never,
      superseded: false,
      fromSharedTier: false,
      note: undefined,
      stale: undefined,
      servedStale: false,
      version: undefined,
      sharedEntry: undefined,
    };
    this.#flights.set(key, flight);
    (flight as { promise: Promise<T> }).promise = this.#settle(key, flight, run);
    return flight;
  }

  /** Marks the flights of every key the predicate accepts (all when omitted) as superseded. */
  supersede(predicate?: (key: string) => boolean): void {
    for (const [key, flight] of this.#flights) {
      if (predicate === undefined || predicate(key)) flight.superseded = true;
    }
  }

  /** Marks one key's flight, if any, as superseded. */
  supersedeKey(key: string): void {
    const flight = this.#flights.get(key);
    if (flight !== undefined) flight.superseded = true;
  }

  async #settle(key: string, flight: Flight<T>, run: (flight: Flight<T>) => Promise<T>): Promise<T> {
    try {
      return await run(flight);
    } finally {
      // Forget before the callers resume, so any of them that calls again starts a new flight.
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
    }
  }
}
