/**
 * The store as the demo's service sees it: every query counted (the dashboard's "database queries/s"),
 * reads of one watched menu counted apart (how many loads a scenario caused for its key), an optional
 * round-trip delay (an embedded SQLite answers in microseconds, a database across a network does not,
 * and a stampede needs a load that takes time), and an outage switch for the "database down" scenario.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Menu } from './menu.js';
import type { MenuStore } from './menu-store.js';

/** Thrown by every query while the database outage scenario runs. */
export class DatabaseDownError extends Error {
  constructor() {
    super('the database is down (demo outage scenario); the cache serves stale values where it has them');
    this.name = 'DatabaseDownError';
  }
}

/** A counting, delaying, breakable wrapper around a store. */
export class MeteredStore {
  readonly inner: MenuStore;
  /** Reads sent to the database. */
  reads = 0;
  /** Writes sent to the database. */
  writes = 0;
  /** Queries refused because the database was down. */
  failed = 0;
  /** While true, every query fails with {@link DatabaseDownError}. */
  down = false;
  readonly #delayMs: number;
  #watched = -1;
  #watchedReads = 0;

  constructor(inner: MenuStore, delayMs: number) {
    this.inner = inner;
    this.#delayMs = delayMs;
  }

  /** Starts counting reads of one menu from zero. */
  watch(id: number): void {
    this.#watched = id;
    this.#watchedReads = 0;
  }

  /** Reads of the watched menu since `watch`. */
  get watchedReads(): number {
    return this.#watchedReads;
  }

  async get(id: number): Promise<Menu | null> {
    await this.#roundTrip();
    this.reads++;
    if (id === this.#watched) this.#watchedReads++;
    return this.inner.get(id);
  }

  async put(menu: Menu): Promise<boolean> {
    await this.#roundTrip();
    this.writes++;
    return this.inner.put(menu);
  }

  async #roundTrip(): Promise<void> {
    if (this.#delayMs > 0) await sleep(this.#delayMs);
    if (this.down) {
      this.failed++;
      throw new DatabaseDownError();
    }
  }
}
