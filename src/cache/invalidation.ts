/**
 * This instance's side of the invalidation bus: it publishes the invalidations this instance makes, and
 * applies other instances' to its L1 and to the loads it has in flight (a load that an invalidation
 * overtook must not store what it read before). A gap in the bus (a reconnect, a lost message) drops
 * the whole L1: no entry can be trusted, and dropping them is the safe re-validation.
 */
import { namespacePrefix, splitPhysicalKey } from '../keys.js';
import type { MemoryTier } from '../memory/memory-tier.js';
import type { ResolvedOptions } from '../options/resolve.js';
import type { SingleFlight } from '../stampede/single-flight.js';
import type { BusEvent, InvalidationMessage } from '../tier.js';
import type { TagIndex } from './tag-index.js';

/** The invalidation bus as this instance uses it. */
export class Invalidation {
  /** Bus figures (messages applied, gaps), when the shared tier has a bus. */
  readonly bus: { received: number; gaps: number } | undefined;
  readonly #options: ResolvedOptions;
  readonly #flights: SingleFlight<unknown>;
  readonly #l1: MemoryTier | undefined;
  readonly #tags: TagIndex;
  /** This cache's origin on the bus: its own invalidations do not come back to it. */
  readonly #origin: string;
  readonly #unsubscribe: (() => void) | undefined;

  constructor(
    options: ResolvedOptions,
    flights: SingleFlight<unknown>,
    l1: MemoryTier | undefined,
    tags: TagIndex,
    origin: string,
  ) {
    this.#options = options;
    this.#flights = flights;
    this.#l1 = l1;
    this.#tags = tags;
    this.#origin = origin;
    const l2 = options.l2;
    if (l2?.onInvalidation !== undefined) {
      this.bus = { received: 0, gaps: 0 };
      this.#unsubscribe = l2.onInvalidation((event) => this.#apply(event), origin);
    }
  }

  /** Tells other instances to drop their copies (no-op without a bus). */
  publish(op: InvalidationMessage['op'], key: string): void {
    this.#options.l2?.publishInvalidation?.({ op, key, origin: this.#origin });
  }

  /**
   * A tag was invalidated (here or by another instance): drop the keys this instance cached with it —
   * among them values kept only here, which the shared tier's tag set never saw — and store no load of
   * the tag's namespace now in flight (it may end up carrying the tag).
   */
  dropTag(tag: string, now: number): void {
    const prefix = namespacePrefix(splitPhysicalKey(tag).namespace);
    this.#flights.supersede(prefix === '' ? undefined : (physical) => physical.startsWith(prefix));
    for (const key of this.#tags.take(tag)) this.#l1?.delete(key, now);
  }

  /** Stops listening. */
  close(): void {
    this.#unsubscribe?.();
  }

  /** Applies another instance's invalidation. */
  #apply(event: BusEvent): void {
    const bus = this.bus as { received: number; gaps: number };
    const now = this.#options.clock.now();
    const flights = this.#flights;
    const l1 = this.#l1;
    if (event === 'gap') {
      bus.gaps++;
      flights.supersede();
      l1?.clear(now);
      return;
    }
    bus.received++;
    if (event.op === 'delete') {
      flights.supersedeKey(event.key);
      l1?.delete(event.key, now);
    } else if (event.op === 'expire') {
      // Stale from now on, but still there to serve if the reload fails (fail-safe grace).
      flights.supersedeKey(event.key);
      l1?.setFreshUntil(event.key, now, now);
    } else if (event.op === 'tag') {
      this.dropTag(event.key, now);
    } else if (event.key === '') {
      flights.supersede();
      l1?.clear(now);
    } else {
      const prefix = event.key;
      const inNamespace = (physical: string) => physical.startsWith(prefix);
      flights.supersede(inNamespace);
      l1?.deleteWhere(inNamespace, now);
    }
  }
}
