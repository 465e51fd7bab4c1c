/**
 * The counters of every namespace path, created on first use and bounded: a cache that makes a namespace
 * per user or request would otherwise grow counters (and `stats()` time) forever. Paths past
 * {@link MAX_NAMESPACE_COUNTERS} share one entry, labelled `'/…'`, which the root's figures still include.
 */
import { addCounters, Counters } from '../metrics/stats.js';

/** Most namespace paths with counters of their own; further paths share one overflow entry. */
export const MAX_NAMESPACE_COUNTERS = 1000;
/** The label of the counters shared by namespaces past {@link MAX_NAMESPACE_COUNTERS}. */
const OVERFLOW_NAMESPACE = '/…';

/** The counters of one namespace path. */
interface Entry {
  readonly segments: readonly string[];
  readonly counters: Counters;
}

/** Each namespace path's own counters, by label. */
export class NamespaceCounters {
  readonly #entries = new Map<string, Entry>();

  /** The counters of a namespace path (its label and its segments), created on first use. */
  for(label: string, segments: readonly string[]): Counters {
    let entry = this.#entries.get(label);
    if (entry === undefined) {
      const full = this.#entries.size >= MAX_NAMESPACE_COUNTERS;
      entry = full ? this.#entries.get(OVERFLOW_NAMESPACE) : undefined;
      if (entry === undefined) {
        entry = { segments: full ? [OVERFLOW_NAMESPACE] : segments, counters: new Counters() };
        this.#entries.set(full ? OVERFLOW_NAMESPACE : label, entry);
      }
    }
    return entry.counters;
  }

  /** Counters summed over a namespace path and everything nested in it. */
  sumUnder(segments: readonly string[]): Counters {
    const sum = new Counters();
    for (const entry of this.#entries.values()) {
      if (segments.every((segment, i) => entry.segments[i] === segment)) addCounters(sum, entry.counters);
    }
    return sum;
  }

  /** Each namespace's own counters (not including nested ones), by label. */
  byLabel(): Map<string, Counters> {
    const result = new Map<string, Counters>();
    for (const [label, entry] of this.#entries) result.set(label, entry.counters);
    return result;
  }
}
