/**
 * The built-in load: an open-loop generator reading menus at a fixed rate, ids drawn from a Zipf
 * distribution (a few famous restaurants, a long tail). Open loop, like real users: requests keep
 * arriving whether or not earlier ones have finished, so a slow database shows as latency and load,
 * not as a politely slower client. A "storm" sends a share of the traffic to one key.
 */
import { seededRandom } from '../workload/random.js';
import { Zipf } from '../workload/zipf.js';

/** How the generator reads. */
export interface LoadSettings {
  /** Requests per second (this instance's share). */
  readonly rate: number;
  /** Zipf exponent of the ids read, 0 = uniform. */
  readonly skew: number;
  /** Ids are `1 … restaurants`. */
  readonly restaurants: number;
  readonly seed: number;
}

const TICK_MS = 1;
/**
 * The rate climbs linearly from a tenth to full over this long, as traffic does after a deploy: a cold
 * cache at full rate in front of a networked database is a load-shedding demo of its own (the
 * `maxConcurrentLoads` refusals), not the steady state the dashboard should open with.
 */
const RAMP_MS = 5000;
/** Beyond this many requests in flight, new ones are skipped and counted as shed. */
const MAX_IN_FLIGHT = 20_000;

/** Reads `read(id)` at `settings.rate` per second until stopped. */
export class LoadGenerator {
  /** Requests skipped because {@link MAX_IN_FLIGHT} were already waiting. */
  shed = 0;
  readonly #read: (id: number) => Promise<unknown>;
  readonly #rate: number;
  readonly #zipf: Zipf;
  readonly #random: () => number;
  #timer: NodeJS.Timeout | undefined;
  #inFlight = 0;
  #issued = 0;
  #storm: { id: number; share: number } | undefined;
  /** A menu the generator does not read while a scenario needs it to itself (see {@link avoid}). */
  #avoided: number | undefined;
  /** Reads in flight, by menu. */
  readonly #pending = new Map<number, number>();

  constructor(settings: LoadSettings, read: (id: number) => Promise<unknown>) {
    this.#read = read;
    this.#rate = settings.rate;
    this.#random = seededRandom(settings.seed);
    this.#zipf = new Zipf(settings.restaurants, settings.skew, seededRandom(settings.seed + 1));
  }

  /** Sends `share` (0–1) of the requests to menu `id`, or stops doing so (`undefined`). */
  storm(id: number | undefined, share = 0.5): void {
    this.#storm = id === undefined ? undefined : { id, share };
  }

  start(): void {
    if (this.#timer !== undefined || this.#rate === 0) return;
    const started = performance.now();
    this.#timer = setInterval(() => {
      const due = Math.floor(expected(performance.now() - started, this.#rate)) - this.#issued;
      for (let i = 0; i < due; i++) this.#one();
      this.#issued += due;
    }, TICK_MS);
  }

  #one(): void {
    if (this.#inFlight >= MAX_IN_FLIGHT) {
      this.shed++;
      return;
    }
    const storm = this.#storm;
    let id: number;
    if (storm !== undefined && this.#random() < storm.share) {
      id = storm.id; // a storm's reads are the scenario's own: never avoided
    } else {
      id = this.#zipf.next() + 1;
      if (id === this.#avoided) id = id === 1 ? 2 : id - 1;
    }
    this.#inFlight++;
    this.#pending.set(id, (this.#pending.get(id) ?? 0) + 1);
    this.#read(id).finally(() => {
      this.#inFlight--;
      const left = (this.#pending.get(id) as number) - 1;
      if (left === 0) this.#pending.delete(id);
      else this.#pending.set(id, left);
    });
  }

  /**
   * Stops the background reads of menu `id` (`undefined`: reads it again; a storm's reads go on) and
   * resolves once none is in flight, so a scenario meets no background read that could refill it.
   */
  async avoid(id: number | undefined): Promise<void> {
    this.#avoided = id;
    while (id !== undefined && this.#pending.has(id)) await new Promise((resolve) => setTimeout(resolve, 2));
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/** Requests due `elapsedMs` after the start at full `rate`, with the ramp: the integral of the rate. */
function expected(elapsedMs: number, rate: number): number {
  const perMs = rate / 1000;
  if (elapsedMs >= RAMP_MS) return perMs * (RAMP_MS * 0.55 + (elapsedMs - RAMP_MS));
  // Rate at t: perMs · (0.1 + 0.9 t / RAMP_MS); its integral from 0 to t:
  return perMs * (0.1 * elapsedMs + (0.45 * elapsedMs * elapsedMs) / RAMP_MS);
}
