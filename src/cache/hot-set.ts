/**
 * The hot set: which keys the hot-key detector reports now, refreshed every second and pushed to the
 * shared tier (which keeps copies of them on several shards, see `HotKeyCopies`). With a shared tier, a
 * hot key's L1 copy counts as fresh for `hotKeys.l1Ttl` at most (it stays, stale, for fail-safe): the
 * many readers of a hot key bound how long a lost invalidation can show. The read path re-reads it from
 * L2 in the background before then.
 */
import { HotKeyDetector } from '../hotkeys/detector.js';
import type { MemoryTier } from '../memory/memory-tier.js';
import type { ResolvedOptions } from '../options/resolve.js';

/** The hot-key sketch: 4 rows of 4,096 16-bit counters, 32 KiB. */
const HOT_SKETCH_WIDTH = 4096;
const HOT_SKETCH_DEPTH = 4;
/** How often the cache tells its shared tier which keys are hot. */
const HOT_PUSH_MS = 1000;

/** The hot keys (physical) as of the detector's last report. */
export class HotSet {
  /** The detector (cache-wide, over physical keys); `undefined` when hot-key detection is off. */
  readonly detector: HotKeyDetector | undefined;
  /** How long a hot key's L1 copy counts as fresh at most; 0 when not capped (no detector or no L2). */
  readonly l1TtlMs: number = 0;
  #keys: ReadonlySet<string> = new Set();
  readonly #timer: NodeJS.Timeout | undefined;

  constructor(options: ResolvedOptions, l1: MemoryTier | undefined) {
    const hot = options.hotKeys;
    if (hot === undefined) return;
    const seed = Math.floor(options.random() * 2 ** 32);
    const detector = new HotKeyDetector(
      { ...hot, width: HOT_SKETCH_WIDTH, depth: HOT_SKETCH_DEPTH, seed },
      options.clock.now(),
    );
    this.detector = detector;
    this.l1TtlMs = options.l2 === undefined ? 0 : hot.l1TtlMs;
    this.#timer = setInterval(() => {
      const keys = detector.hot(options.clock.now(), hot.minRate, hot.minShare).map((h) => h.key);
      this.#keys = new Set(keys);
      options.l2?.setHotKeys?.(keys);
    }, HOT_PUSH_MS).unref();
    // The L1 always admits a hot key and never evicts one for an ordinary candidate.
    if (l1 !== undefined) l1.favoured = (key) => this.#keys.has(key);
  }

  /** Whether a key (physical) was hot at the last report. */
  has(physical: string): boolean {
    return this.#keys.has(physical);
  }

  /** The end of freshness for a new L1 copy: `freshUntil`, or sooner for a hot key (see the module doc). */
  cap(physical: string, now: number, freshUntil: number): number {
    const cap = this.l1TtlMs;
    return cap > 0 && freshUntil - now > cap && this.#keys.has(physical) ? now + cap : freshUntil;
  }

  /** Stops the reports. */
  close(): void {
    clearInterval(this.#timer);
  }
}
