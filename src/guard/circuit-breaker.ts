/**
 * A circuit breaker for a remote tier. After `failures` consecutive failures it opens: calls are
 * refused at once (no timeout to wait out) for `openMs`. Then it lets one trial call through
 * (half-open); success closes it, failure opens it again. While open, the cache reads through to the
 * loader, so a dead Redis costs callers nothing but the lost hit rate.
 */
import type { Clock } from '../options.js';

/** Breaker states. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** Breaker settings, resolved. */
export interface BreakerSettings {
  /** Consecutive failures that open the breaker. */
  readonly failures: number;
  /** How long it stays open before a trial call, in ms. */
  readonly openMs: number;
}

/** Counts failures and decides whether a call may go ahead. */
export class CircuitBreaker {
  readonly #settings: BreakerSettings;
  readonly #clock: Clock;
  #state: BreakerState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #trialInFlight = false;
  /** Times the breaker has opened. */
  opened = 0;

  constructor(settings: BreakerSettings, clock: Clock) {
    this.#settings = settings;
    this.#clock = clock;
  }

  get state(): BreakerState {
    if (this.#state === 'open' && this.#clock.now() - this.#openedAt >= this.#settings.openMs) return 'half-open';
    return this.#state;
  }

  /** Whether a call may go ahead now. A `true` in half-open state reserves the single trial call. */
  allow(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.#trialInFlight) return false;
    this.#state = 'half-open';
    this.#trialInFlight = true;
    return true;
  }

  /** Reports a call that succeeded. */
  success(): void {
    this.#failures = 0;
    this.#trialInFlight = false;
    this.#state = 'closed';
  }

  /** Reports a call that failed. */
  failure(): void {
    this.#failures++;
    const wasTrial = this.#trialInFlight;
    this.#trialInFlight = false;
    if (wasTrial || (this.#state === 'closed' && this.#failures >= this.#settings.failures)) {
      this.#state = 'open';
      this.#openedAt = this.#clock.now();
      this.opened++;
    }
  }
}
