/**
 * The repair of writes the shared tier did not confirm. A `set`, `delete`, `expire`, write-through or tag
 * invalidation that failed or timed out may or may not have happened in the shared tier; until the key is
 * removed there, other instances may read what the write replaced, for a whole TTL. So the key (or the
 * tag) is remembered, and once the tier answers again it is removed there — a delete, which moves the
 * key's version, so neither a late copy of the write nor a load that read the old value can land after
 * it — and the other instances are told. Removing rather than re-writing: by then the value this
 * instance holds may itself be older than the database.
 */
import type { Counters } from '../metrics/stats.js';
import type { InvalidationMessage, SharedTier } from '../tier.js';

/** Most keys (and tags) remembered; past this, the repair clears every key of the cache instead. */
export const MAX_UNCONFIRMED = 10_000;
/** How often the repair is tried while anything waits. */
const REPAIR_EVERY_MS = 1000;

/** Keys and tags waiting for their repair, and the timer that retries it. */
export class WriteRepair {
  readonly #l2: SharedTier;
  readonly #publish: (op: InvalidationMessage['op'], key: string) => void;
  /** Each waiting key or tag, with the counters its repair is credited to. */
  readonly #keys = new Map<string, Counters>();
  readonly #tags = new Map<string, Counters>();
  /** Set when more went unconfirmed than is remembered: the repair clears everything. */
  #all = false;
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #closed = false;

  constructor(l2: SharedTier, publish: (op: InvalidationMessage['op'], key: string) => void) {
    this.#l2 = l2;
    this.#publish = publish;
  }

  /** Remembers a key whose write the tier did not confirm. */
  key(counters: Counters, physical: string): void {
    counters.l2Deferred++;
    if (this.#keys.size >= MAX_UNCONFIRMED) this.#all = true;
    else this.#keys.set(physical, counters);
    this.#schedule();
  }

  /** Remembers a tag the tier could not take (its keys are removed once it can). */
  tag(counters: Counters, tag: string): void {
    counters.l2Deferred++;
    if (this.#tags.size >= MAX_UNCONFIRMED) this.#all = true;
    else this.#tags.set(tag, counters);
    this.#schedule();
  }

  /** A later write of the key was confirmed: it needs no repair. */
  confirmed(physical: string): void {
    this.#keys.delete(physical);
  }

  /** A later invalidation of the tag was confirmed. */
  confirmedTag(tag: string): void {
    this.#tags.delete(tag);
  }

  /** Keys and tags waiting (everything, once more went unconfirmed than is remembered). */
  get pending(): number {
    return this.#all ? MAX_UNCONFIRMED : this.#keys.size + this.#tags.size;
  }

  /** Stops retrying (the cache closed); what still waits is not repaired. */
  close(): void {
    this.#closed = true;
    this.#stop();
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer ??= setInterval(() => void this.#run(), REPAIR_EVERY_MS).unref();
  }

  async #run(): Promise<void> {
    const l2 = this.#l2;
    if (this.#running) return;
    this.#running = true;
    try {
      if (this.#all) {
        await l2.clear('');
        this.#all = false;
        this.#keys.clear();
        this.#tags.clear();
        this.#publish('clear', '');
      }
      for (const [tag, counters] of this.#tags) {
        const taken = await (l2.takeTag as NonNullable<SharedTier['takeTag']>)(tag);
        this.#tags.delete(tag);
        counters.l2Repaired++;
        for (const key of taken.removed) this.#publish('delete', key);
        for (const key of taken.unconfirmed) this.#keys.set(key, counters);
      }
      for (const [physical, counters] of this.#keys) {
        await l2.delete(physical);
        this.#keys.delete(physical);
        counters.l2Repaired++;
        this.#publish('delete', physical);
      }
    } catch {
      // Still down: the next round tries again.
    } finally {
      this.#running = false;
      if (this.pending === 0) this.#stop();
    }
  }
}
