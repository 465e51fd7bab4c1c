/**
 * `clear()` on Memcached, which cannot list its keys: every key lives under the **generations** of its
 * namespace path (the root's, then each enclosing namespace's), and clearing a namespace moves its
 * generation, so every key under it becomes unreachable at once and ages out of Memcached's LRU.
 *
 * - A generation is a counter item (`ma`), created on first use with the current time as its value:
 *   one that Memcached evicted or lost in a restart comes back as a new value, never an old one, so it
 *   can only hide entries, never revive them.
 * - Each instance keeps the generations it uses and re-reads them in the background once they are older
 *   than `maxAgeMs` (default 1 s): another instance's `clear()` reaches this one within that bound.
 * - A generation whose server does not answer keeps its last value; one never read fails the call
 *   (the read is a miss).
 */
import { namespacePrefix, splitPhysicalKey } from '../keys.js';

/** What the generations need of the tier: read (or create) one, and move one. */
export interface GenerationStore {
  /** The generation of a namespace prefix (created if missing). */
  read(prefix: string): Promise<string>;
  /** Moves a namespace prefix's generation; @returns the new one. */
  bump(prefix: string): Promise<string>;
}

/** One known generation. A class: it outlives the read that made it. */
class Known {
  constructor(
    public value: string,
    public readAt: number,
    public refreshing: Promise<void> | undefined,
  ) {}
}

/** The generations this instance uses, kept fresh within `maxAgeMs`. */
export class Generations {
  readonly #store: GenerationStore;
  readonly #maxAgeMs: number;
  readonly #known = new Map<string, Known>();
  /** The first read of each generation, shared by its callers. */
  readonly #first = new Map<string, Promise<string>>();

  constructor(store: GenerationStore, maxAgeMs: number) {
    this.#store = store;
    this.#maxAgeMs = maxAgeMs;
  }

  /**
   * The generation head of a physical key: `"<g>:"` for a root key, `"<g>.<g1>…:"` under namespaces.
   * Synchronous (a string) when every generation is known; a promise the first time.
   */
  head(physical: string, now: number): string | Promise<string> {
    if (physical.charCodeAt(0) !== 1) {
      const root = this.#get('', now);
      return typeof root === 'string' ? `${root}:` : root.then((g) => `${g}:`);
    }
    const segments = splitPhysicalKey(physical).namespace;
    const parts: (string | Promise<string>)[] = [this.#get('', now)];
    for (let i = 1; i <= segments.length; i++) parts.push(this.#get(namespacePrefix(segments.slice(0, i)), now));
    if (parts.every((part) => typeof part === 'string')) return `${parts.join('.')}:`;
    return Promise.all(parts).then((values) => `${values.join('.')}:`);
  }

  /** Moves a namespace prefix's generation (`''`: every key). */
  async bump(prefix: string, now: number): Promise<void> {
    const value = await this.#store.bump(prefix);
    const known = this.#known.get(prefix);
    if (known === undefined) this.#known.set(prefix, new Known(value, now, undefined));
    else {
      known.value = value;
      known.readAt = now;
    }
  }

  #get(prefix: string, now: number): string | Promise<string> {
    const known = this.#known.get(prefix);
    if (known === undefined) return this.#readFirst(prefix, now);
    if (now - known.readAt > this.#maxAgeMs && known.refreshing === undefined) {
      known.refreshing = this.#store.read(prefix).then(
        (value) => {
          // A refresh that started before this instance's own bump must not undo it: generations only rise.
          if (newer(value, known.value)) known.value = value;
          known.readAt = now;
          known.refreshing = undefined;
        },
        () => {
          known.refreshing = undefined; // keep the last value; try again on a later read
        },
      );
    }
    return known.value;
  }

  #readFirst(prefix: string, now: number): Promise<string> {
    let first = this.#first.get(prefix);
    if (first === undefined) {
      first = this.#store.read(prefix).then(
        (value) => {
          this.#first.delete(prefix);
          this.#known.set(prefix, new Known(value, now, undefined));
          return value;
        },
        (error: unknown) => {
          this.#first.delete(prefix);
          throw error;
        },
      );
      this.#first.set(prefix, first);
    }
    return first;
  }
}

/** Whether generation `a` is above `b` (decimal counters up to 2⁶⁴). */
function newer(a: string, b: string): boolean {
  return a.length !== b.length ? a.length > b.length : a > b;
}
