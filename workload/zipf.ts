/**
 * Zipf-distributed key ids: rank r in [0, n) is drawn with probability ∝ 1 / (r + 1)^s. Real read
 * traffic is skewed like this — a few hot menus, a long tail — which is what makes a cache worth it.
 *
 * Sampling is by inversion of the exact cumulative distribution (a Float64Array of n entries, binary
 * search per draw): exact for any s, O(log n) a draw, 8 bytes per key.
 */
import { seededRandom } from './random.js';

/** A Zipf sampler over ids `0 … n − 1`, 0 the most popular. */
export class Zipf {
  readonly #cumulative: Float64Array;
  readonly #random: () => number;

  /**
   * @param n Number of distinct ids.
   * @param s Skew exponent (0 is uniform; web traffic is typically 0.7–1.0).
   * @param random A source in [0, 1); give a seeded one for reproducible streams.
   */
  constructor(n: number, s: number, random: () => number) {
    const cumulative = new Float64Array(n);
    let sum = 0;
    for (let rank = 0; rank < n; rank++) {
      sum += 1 / (rank + 1) ** s;
      cumulative[rank] = sum;
    }
    for (let rank = 0; rank < n; rank++) cumulative[rank] = (cumulative[rank] as number) / sum;
    this.#cumulative = cumulative;
    this.#random = random;
  }

  /** Draws one id. */
  next(): number {
    const u = this.#random();
    const cumulative = this.#cumulative;
    let low = 0;
    let high = cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((cumulative[middle] as number) < u) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

/**
 * A seeded stream of `length` Zipf ids over `n` keys, with ranks shuffled over the id space so that
 * popularity is not correlated with the id's value.
 */
export function zipfTrace(n: number, s: number, length: number, seed: number): Int32Array {
  const random = seededRandom(seed);
  const zipf = new Zipf(n, s, random);
  const permutation = new Int32Array(n);
  for (let i = 0; i < n; i++) permutation[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const swap = permutation[i] as number;
    permutation[i] = permutation[j] as number;
    permutation[j] = swap;
  }
  const trace = new Int32Array(length);
  for (let i = 0; i < length; i++) trace[i] = permutation[zipf.next()] as number;
  return trace;
}
