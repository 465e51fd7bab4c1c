/**
 * Seeded pseudo-random numbers for workloads, benchmarks and tests: the same seed gives the same
 * stream on every machine, so a hit ratio or a test outcome can be reproduced exactly.
 */

/**
 * mulberry32 (Tommy Ettinger): a 32-bit state generator, fast and good enough for workloads.
 * @returns a function producing numbers in [0, 1).
 */
export function seededRandom(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
