/**
 * Hot-key detection: which keys take an outsized share of the reads right now. A decaying count-min
 * sketch estimates every key's recent reads in fixed memory; a small candidate set keeps the heaviest
 * keys seen (the "sketch plus heap" heavy-hitter design). The cache feeds it one read in `sampleEvery`,
 * so the read path pays a counter increment, and the sketch work is amortised over the sample.
 *
 * - **Sketch.** `depth` rows of `width` 16-bit counters (4 × 4096: 32 KiB). A read increments the
 *   key's counter in each row only where it equals the row minimum (conservative update), which keeps
 *   collisions from inflating light keys; the estimate is the minimum over rows.
 * - **Decay.** Every half window all counters (and the candidates' counts, and the total) are halved,
 *   so a count is an exponentially weighted sum of recent reads and a key that cools down drops out.
 *   The time the counts cover is decayed the same way, so count ÷ covered time estimates the rate,
 *   also during the first window.
 * - **Candidates** count their own reads exactly once admitted (the sketch's estimate is their start):
 *   no collisions, and no 16-bit ceiling for the hottest keys.
 * - **Candidates.** Up to `capacity` keys with their latest estimate; a new key enters when its estimate
 *   beats the lightest candidate (tracked, so most reads compare one number). Replacement scans the
 *   candidates: rare once the heavy keys are in.
 */
import { hashString, mix32 } from '../memory/hash.js';

/** A key the detector considers hot. */
export interface HotKeyEstimate {
  /** The physical key. */
  readonly key: string;
  /** Estimated reads per second (all reads, not just the sampled ones). */
  readonly rate: number;
  /** Estimated share of all reads, 0–1. */
  readonly share: number;
}

/** Settings of a {@link HotKeyDetector}. */
export interface DetectorSettings {
  /** Counters per sketch row (a power of two). */
  readonly width: number;
  /** Sketch rows. */
  readonly depth: number;
  /** Candidate keys kept. */
  readonly capacity: number;
  /** Window the rates are measured over, in ms (counts halve every half window). */
  readonly windowMs: number;
  /** One read in this many is recorded; rates are scaled back up by it. */
  readonly sampleEvery: number;
  /** Hash seed. */
  readonly seed: number;
}

const COUNTER_MAX = 0xffff;

/** A heavy-hitter detector over a decaying window. */
export class HotKeyDetector {
  readonly #settings: DetectorSettings;
  readonly #counters: Uint16Array;
  readonly #mask: number;
  /** Scratch: the counter index of the key being recorded, per row. */
  readonly #indexes: Int32Array;
  readonly #candidates = new Map<string, number>();
  #lightest = 0;
  #total = 0;
  #halvedAt: number;
  /** The time the counts cover at the last halving, decayed like them. */
  #spanMs = 0;

  constructor(settings: DetectorSettings, now: number) {
    this.#settings = settings;
    this.#counters = new Uint16Array(settings.width * settings.depth);
    this.#mask = settings.width - 1;
    this.#indexes = new Int32Array(settings.depth);
    this.#halvedAt = now;
  }

  /** Bytes of the sketch (the candidates add `capacity` map entries). */
  get sketchBytes(): number {
    return this.#counters.byteLength;
  }

  /** Records one (sampled) read of `key`. */
  record(key: string, now: number): void {
    this.#age(now);
    const { width, depth, capacity } = this.#settings;
    const counters = this.#counters;
    const indexes = this.#indexes;
    let hash = hashString(key, this.#settings.seed);
    let min = COUNTER_MAX;
    for (let row = 0; row < depth; row++) {
      const index = row * width + (hash & this.#mask);
      indexes[row] = index;
      const count = counters[index] as number;
      if (count < min) min = count;
      hash = mix32(hash + row + 1);
    }
    if (min < COUNTER_MAX) {
      for (let row = 0; row < depth; row++) {
        const index = indexes[row] as number;
        if (counters[index] === min) counters[index] = min + 1;
      }
      min++;
    }
    this.#total++;
    const candidates = this.#candidates;
    const counted = candidates.get(key);
    if (counted !== undefined) {
      // A candidate counts its own reads exactly: no collisions, and no 16-bit ceiling for the hottest.
      candidates.set(key, counted + 1);
      return;
    }
    if (candidates.size < capacity) {
      candidates.set(key, min);
      this.#lightest = candidates.size === 1 ? min : Math.min(this.#lightest, min);
      return;
    }
    if (min <= this.#lightest) return;
    // Replace the lightest candidate: a rare scan once the heavy keys are in.
    let lightestKey: string | undefined;
    let lightest = Number.POSITIVE_INFINITY;
    for (const [candidate, count] of candidates) {
      if (count < lightest) {
        lightest = count;
        lightestKey = candidate;
      }
    }
    if (lightestKey !== undefined && min > lightest) {
      candidates.delete(lightestKey);
      candidates.set(key, min);
    }
    this.#lightest = Math.min(...candidates.values());
  }

  /** The candidates whose estimated rate and share reach the thresholds, heaviest first. */
  hot(now: number, minRate: number, minShare: number): HotKeyEstimate[] {
    this.#age(now);
    const { sampleEvery } = this.#settings;
    // The time the counts cover, decayed exactly as they are: right for a steady rate from the start.
    const spanMs = this.#spanMs + (now - this.#halvedAt);
    const hot: HotKeyEstimate[] = [];
    for (const [key, count] of this.#candidates) {
      const rate = (count * sampleEvery * 1000) / spanMs;
      const share = this.#total === 0 ? 0 : count / this.#total;
      if (rate >= minRate && share >= minShare) hot.push({ key, rate, share });
    }
    return hot.sort((a, b) => b.rate - a.rate);
  }

  /** Halves every count once per half window that has passed. */
  #age(now: number): void {
    const halfMs = this.#settings.windowMs / 2;
    if (now - this.#halvedAt < halfMs) return;
    // Several half windows idle: halve as many times (a cold detector forgets, not just halves).
    const halvings = Math.min(16, Math.floor((now - this.#halvedAt) / halfMs));
    for (let i = 0; i < halvings; i++) this.#spanMs = (this.#spanMs + halfMs) / 2;
    this.#halvedAt += halvings * halfMs;
    const counters = this.#counters;
    for (let i = 0; i < counters.length; i++) counters[i] = (counters[i] as number) >>> halvings;
    this.#total = Math.floor(this.#total / 2 ** halvings);
    for (const [key, count] of this.#candidates) {
      const halved = Math.floor(count / 2 ** halvings);
      if (halved === 0) this.#candidates.delete(key);
      else this.#candidates.set(key, halved);
    }
    this.#lightest = this.#candidates.size === 0 ? 0 : Math.min(...this.#candidates.values());
  }
}
