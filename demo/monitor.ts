/**
 * The control plane's view of the instances: every second it collects their reports, turns two
 * consecutive reports into a dashboard point (rates, hit rates, percentiles), keeps a short history
 * for newly opened dashboards, and hands each point to whoever listens (SSE streams, the terminal).
 */
import type { Instance } from './instance.js';
import { type InstanceSample, type Point, toPoint } from './sample.js';

/** Points kept for a dashboard that connects late: ten minutes. */
const HISTORY = 600;

/** Samples the instances every `intervalMs`. */
export class Monitor {
  readonly history: Point[] = [];
  /** What the point's `scenario` field says; set by the scenario runner. */
  scenario: string | undefined;
  readonly #instances: readonly Instance[];
  readonly #listeners = new Set<(point: Point) => void>();
  readonly #started = Date.now();
  readonly #first: InstanceSample[];
  #previous: InstanceSample[];
  #timer: NodeJS.Timeout | undefined;
  #sampling = false;

  private constructor(instances: readonly Instance[], first: InstanceSample[]) {
    this.#instances = instances;
    this.#first = first;
    this.#previous = first;
  }

  /** Takes a first report from every instance, then one every `intervalMs`. */
  static async start(instances: readonly Instance[], intervalMs = 1000): Promise<Monitor> {
    const monitor = new Monitor(instances, await Promise.all(instances.map((i) => i.sample())));
    monitor.#timer = setInterval(() => void monitor.#tick(), intervalMs);
    return monitor;
  }

  /** The last point, or `undefined` before the first interval has passed. */
  get latest(): Point | undefined {
    return this.history.at(-1);
  }

  /** One point over the whole run so far (for the final report). */
  async overall(): Promise<Point> {
    const current = await Promise.all(this.#instances.map((i) => i.sample(true)));
    return toPoint(this.#first, current, (Date.now() - this.#started) / 1000, undefined);
  }

  /** Calls `listener` with every new point. @returns a function that stops it. */
  subscribe(listener: (point: Point) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async #tick(): Promise<void> {
    // A slow instance must not stack up overlapping rounds.
    if (this.#sampling) return;
    this.#sampling = true;
    try {
      const current = await Promise.all(this.#instances.map((i) => i.sample()));
      const point = toPoint(this.#previous, current, (Date.now() - this.#started) / 1000, this.scenario);
      this.#previous = current;
      this.history.push(point);
      if (this.history.length > HISTORY) this.history.shift();
      for (const listener of this.#listeners) listener(point);
    } catch {
      // An instance that died is reported by its exit; the next round tries again.
    } finally {
      this.#sampling = false;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
