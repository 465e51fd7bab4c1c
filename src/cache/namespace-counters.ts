/**
 * The counters of every namespace path, created on first use and bounded: a cache that makes a namespace
 * per user or request would otherwise grow counters (and `stats()` time) forever. Paths past
 * {@link MAX_NAMESPACE_COUNTERS} share one entry, labelled `'/…'`, which the root's figures still include.
 *
 * Beside the read-path counters, each namespace keeps its share of what the L1 and the miss-ratio curve
 * see by physical key (removals, simulated hits), found by the key's prefix: that is what lets a
 * namespace's health say why its own hit rate is low.
 */
import { namespacePrefix, prefixLength } from '../keys.js';
import { type NamespaceTotals, sumUnder } from '../metrics/health.js';
import { CurveCounts } from '../metrics/miss-ratio-curve.js';
import { addCounters, Counters } from '../metrics/stats.js';

/** Most namespace paths with counters of their own; further paths share one overflow entry. */
export const MAX_NAMESPACE_COUNTERS = 1000;
/** The label of the counters shared by namespaces past {@link MAX_NAMESPACE_COUNTERS}. */
const OVERFLOW_NAMESPACE = '/…';
const ROOT = '/';

/** The counters of one namespace path. */
interface Entry {
  readonly segments: readonly string[];
  readonly counters: Counters;
  /** Its sampled keys' hits in each of the curve's simulations. */
  readonly curve: CurveCounts;
}

/** Each namespace path's own counters, by label. */
export class NamespaceCounters {
  readonly #entries = new Map<string, Entry>();
  /** The same entries by physical-key prefix (the overflow entry has none). */
  readonly #byPrefix = new Map<string, Entry>();

  /** The counters of a namespace path (its label and its segments), created on first use. */
  for(label: string, segments: readonly string[]): Counters {
    return this.#entry(label, segments).counters;
  }

  #entry(label: string, segments: readonly string[]): Entry {
    let entry = this.#entries.get(label);
    if (entry !== undefined) return entry;
    if (this.#entries.size >= MAX_NAMESPACE_COUNTERS) return this.#overflow();
    entry = { segments, counters: new Counters(), curve: new CurveCounts() };
    this.#entries.set(label, entry);
    this.#byPrefix.set(namespacePrefix(segments), entry);
    return entry;
  }

  #overflow(): Entry {
    let entry = this.#entries.get(OVERFLOW_NAMESPACE);
    if (entry === undefined) {
      entry = { segments: [OVERFLOW_NAMESPACE], counters: new Counters(), curve: new CurveCounts() };
      this.#entries.set(OVERFLOW_NAMESPACE, entry);
    }
    return entry;
  }

  /**
   * The entry a physical key belongs to. Every key the L1 holds came through a namespace view, which
   * registered its prefix; one that did not (past the bound) counts with the overflow entry.
   */
  ofPhysical(physical: string): { readonly counters: Counters; readonly curve: CurveCounts } {
    const end = prefixLength(physical);
    if (end === 0) return this.#entry(ROOT, []);
    return this.#byPrefix.get(physical.slice(0, end)) ?? this.#overflow();
  }

  /** Counters summed over a namespace path and everything nested in it. */
  sumUnder(segments: readonly string[]): Counters {
    return sumUnder(this.#entries.values(), segments).counters;
  }

  /** Each namespace's own counters (not including nested ones), by label. */
  byLabel(): Map<string, Counters> {
    const result = new Map<string, Counters>();
    for (const [label, entry] of this.#entries) result.set(label, entry.counters);
    return result;
  }

  /** A copy of every namespace's figures, for the health window's snapshots. */
  totals(): NamespaceTotals[] {
    return Array.from(this.#entries.values(), (entry) => ({
      segments: entry.segments,
      counters: addCounters(new Counters(), entry.counters),
      curve: entry.curve.copy(),
    }));
  }
}
