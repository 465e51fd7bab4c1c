/**
 * In-process single-flight: concurrent calls for one key share one execution and its outcome
 * (groupcache's `singleflight`). The flight is forgotten as soon as it settles, so a failure is
 * never cached and the next call starts afresh.
 */

/** A stale copy of a value (see {@link Flight.stale}). */
export class StaleCopy {
  constructor(
    readonly value: unknown,
    /** When the copy's grace ends (epoch ms). */
    readonly until: number,
  ) {}
}

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
  /**
   * A value past its TTL but within grace, found on the way: what fail-safe serves if the load fails.
   * `until` is when that copy's grace ends: of two stale copies (L1's and L2's) the one that lives longer
   * was written later, and is the one kept.
   */
  stale: StaleCopy | undefined;
  /**
   * Set on a load that goes on after its callers were answered (a soft or hard timeout): a caller joining
   * it gets the same time limits as if it had started the load, not an unbounded wait.
   */
  background: boolean;
  /** Set when the flight's callers got the stale value (the load failed, timed out, or was refused). */
  servedStale: boolean;
  /** The key's shared-tier version read before loading: the load stores only if it is unchanged. */
  version: string | undefined;
  /** The shared tier's tag epoch read with the version: the load's tags must not have moved past it. */
  tagEpoch: string | undefined;
  /** The expiry and load time of the shared-tier entry that answered, if one did (for XFetch). */
  sharedEntry: { readonly expiresAt: number; readonly delta: number } | undefined;
}

/**
 * A flight's state. A class, not an object literal, and so is {@link Holder}: V8 decides per object
 * literal whether to allocate its objects straight in the old generation ("allocation-site
 * pretenuring"), and a burst of flights all alive at one young collection (256 callers in flight) can
 * make it decide so for good. An old-generation flight then keeps its promise and value alive through
 * young collections until the next full GC. Measured in the L2-hit worker: ~1 MB promoted per scavenge
 * with literals, ~3 KB with classes (`--trace-gc-nvp`; `--no-allocation-site-pretenuring` did the same).
 */
class FlightState<T> implements Flight<T> {
  promise!: Promise<T>;
  superseded = false;
  fromSharedTier = false;
  note: unknown = undefined;
  stale: StaleCopy | undefined = undefined;
  background = false;
  servedStale = false;
  version: string | undefined = undefined;
  tagEpoch: string | undefined = undefined;
  sharedEntry: { readonly expiresAt: number; readonly delta: number } | undefined = undefined;
}

/**
 * What the map holds for a flight: a holder emptied when the flight settles. V8 leaves the hash table a
 * busy, long-lived Map outgrew in the old generation with its entries still in it until the next full
 * GC, so everything a settled flight references (its promise, hence the value) would survive young
 * collections and be promoted: measured at ~1 MB per scavenge and a quarter of the L2-hit benchmark's
 * time in GC. An emptied holder leaves only itself behind.
 */
class Holder<T> {
  flight: Flight<T> | undefined;
  constructor(flight: Flight<T>) {
    this.flight = flight;
  }
}

/** A map of keys to their in-progress {@link Flight}s. */
export class SingleFlight<T> {
  readonly #flights = new Map<string, Holder<T>>();
  /**
   * Supersessions so far (each a write or an invalidation): a read that has no flight compares it before
   * and after, to tell whether an invalidation arrived while it was out.
   */
  invalidations = 0;

  /** The flight in progress for a key, if any. */
  get(key: string): Flight<T> | undefined {
    return this.#flights.get(key)?.flight;
  }

  /** Flights in progress. */
  get size(): number {
    return this.#flights.size;
  }

  /**
   * Starts the execution for a key that has no flight (check {@link get} first).
   * @param run Receives its own flight, so it can see whether it was superseded before it stores.
   * @param settled Called once the execution settles, before any caller resumes (so one callback per
   *   flight, not one per caller, can count them).
   */
  start(
    key: string,
    run: (flight: Flight<T>) => Promise<T>,
    settled?: (flight: Flight<T>, ok: boolean) => void,
  ): Flight<T> {
    const flight = new FlightState<T>();
    const holder = new Holder(flight);
    this.#flights.set(key, holder);
    // Forget before the callers resume, so any of them that calls again starts a new flight.
    const forget = (ok: boolean) => {
      if (this.#flights.get(key) === holder) this.#flights.delete(key);
      holder.flight = undefined;
      if (settled === undefined) return;
      try {
        settled(flight, ok);
      } catch (error) {
        // Bookkeeping (or a listener it notifies) that throws must not change what the callers get;
        // it is rethrown on its own, as loudly as an uncaught error anywhere else.
        queueMicrotask(() => {
          throw error;
        });
      }
    };
    let running: Promise<T>;
    try {
      running = run(flight);
    } catch (error) {
      running = Promise.reject(error);
    }
    // One reaction rather than an async wrapper: on an L2 hit every promise layer is a measurable cost.
    flight.promise = running.then(
      (value) => {
        forget(true);
        return value;
      },
      (error: unknown) => {
        forget(false);
        throw error;
      },
    );
    return flight;
  }

  /** Marks the flights of every key the predicate accepts (all when omitted) as superseded. */
  supersede(predicate?: (key: string) => boolean): void {
    this.invalidations++;
    for (const [key, { flight }] of this.#flights) {
      if (flight !== undefined && (predicate === undefined || predicate(key))) flight.superseded = true;
    }
  }

  /** Marks one key's flight, if any, as superseded. */
  supersedeKey(key: string): void {
    this.invalidations++;
    const flight = this.#flights.get(key)?.flight;
    if (flight !== undefined) flight.superseded = true;
  }
}
