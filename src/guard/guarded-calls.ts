/**
 * Every call a remote tier makes, under a timeout and a circuit breaker, so a slow or dead server costs a
 * bounded wait at most `failures` times, then nothing until a trial call succeeds. Any failure becomes a
 * {@link TierUnavailableError}, which the cache reads as a miss (or a deferred write), never as an error
 * for its caller.
 *
 * Deadlines: one interval timer for all calls in flight (`deadlines.ts`), instead of a timer and a
 * `Promise.race` per call — measured, that pair was a visible share of an L2 hit's cost.
 */
import { TierUnavailableError } from '../errors.js';
import type { Clock } from '../options.js';
import { type BreakerState, CircuitBreaker } from './circuit-breaker.js';
import { Deadlines } from './deadlines.js';

/** Deadlines are checked this many times per timeout: a call fails within 1¼ × its timeout. */
const SWEEPS_PER_TIMEOUT = 4;
/** Never check more often than this. */
const MIN_SWEEP_MS = 5;

/** What a tier counts of its calls' failures. */
export interface CallCounters {
  /** Calls that failed: error, timeout, or refused by the open breaker. */
  errors: number;
  timeouts: number;
}

/** Settings of {@link GuardedCalls}. */
export interface GuardSettings {
  /** The tier's name, for error messages. */
  readonly tier: string;
  readonly timeoutMs: number;
  /** Consecutive failures that open the breaker. */
  readonly breakerFailures: number;
  /** How long the breaker stays open before a trial call, in ms. */
  readonly breakerOpenMs: number;
  readonly clock: Clock;
  /**
   * Whether a failure is the server answering about one key (Redis's WRONGTYPE, say) rather than the
   * server or the network failing: such a failure does not count toward the breaker, or ten bad keys
   * would cut every key off the tier.
   */
  readonly isKeyError?: (cause: unknown) => boolean;
}

/** Runs a tier's calls under one timeout and one breaker. */
export class GuardedCalls {
  readonly #tier: string;
  readonly #timeoutMs: number;
  readonly #breaker: CircuitBreaker;
  readonly #counters: CallCounters;
  readonly #isKeyError: (cause: unknown) => boolean;
  readonly #deadlines = new Deadlines();
  readonly #sweepMs: number;
  #sweeper: NodeJS.Timeout | undefined;
  /** While the client connects, calls wait for it (bounded by their timeout). */
  #connecting: Promise<unknown> | undefined;

  constructor(settings: GuardSettings, counters: CallCounters) {
    this.#tier = settings.tier;
    this.#timeoutMs = settings.timeoutMs;
    this.#sweepMs = Math.max(MIN_SWEEP_MS, Math.floor(settings.timeoutMs / SWEEPS_PER_TIMEOUT));
    this.#breaker = new CircuitBreaker(
      { failures: settings.breakerFailures, openMs: settings.breakerOpenMs },
      settings.clock,
    );
    this.#counters = counters;
    this.#isKeyError = settings.isKeyError ?? (() => false);
  }

  /** The breaker's state now. */
  get breakerState(): BreakerState {
    return this.#breaker.state;
  }

  /** Times the breaker has opened. */
  get breakerOpened(): number {
    return this.#breaker.opened;
  }

  /** The connection attempt still running, if any. */
  get connecting(): Promise<unknown> | undefined {
    return this.#connecting;
  }

  /**
   * Makes calls wait for `connection`. Once it succeeds calls run at once; a failed attempt stays
   * recorded (`connecting` settles at once), so closing still treats the client as one that may
   * connect late.
   */
  connectingThrough(connection: Promise<unknown>): void {
    this.#connecting = connection.then(
      () => {
        this.#connecting = undefined;
      },
      () => undefined,
    );
  }

  /**
   * Runs one call under the breaker and the timeout; any failure becomes a TierUnavailableError.
   * `map` (which must not throw) turns the reply into the result.
   */
  call<R, T = R>(command: string, key: string, run: () => Promise<R>, map?: (reply: R) => T): Promise<T> {
    if (!this.#breaker.allow()) {
      this.#counters.errors++;
      return Promise.reject(
        new TierUnavailableError(this.#tier, 'the circuit breaker is open after repeated failures.', { key }),
      );
    }
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const ticket = this.#deadlines.add(performance.now() + this.#timeoutMs, () => {
        settled = true;
        this.#breaker.failure();
        this.#counters.errors++;
        this.#counters.timeouts++;
        reject(new TierUnavailableError(this.#tier, `${command} took longer than ${this.#timeoutMs} ms.`, { key }));
      });
      this.#sweeper ??= setInterval(() => this.#expireCalls(), this.#sweepMs).unref();
      const started = this.#connecting === undefined ? run() : this.#connecting.then(run);
      started.then(
        (result) => {
          if (settled) return; // already timed out
          settled = true;
          this.#deadlines.settle(ticket);
          this.#breaker.success();
          resolve(map === undefined ? (result as unknown as T) : map(result));
        },
        (cause: unknown) => {
          if (settled) return;
          settled = true;
          this.#deadlines.settle(ticket);
          if (this.#isKeyError(cause)) this.#breaker.success();
          else this.#breaker.failure();
          this.#counters.errors++;
          reject(
            new TierUnavailableError(this.#tier, `${command} failed: ${(cause as Error).message}`, { key, cause }),
          );
        },
      );
    });
  }

  /** Stops the deadline sweeper (calls still in flight are no longer timed out). */
  close(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  /** Fails the calls past their deadline; stops the sweeper when none is left. */
  #expireCalls(): void {
    this.#deadlines.expire(performance.now());
    if (this.#deadlines.size === 0 && this.#sweeper !== undefined) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }
}
