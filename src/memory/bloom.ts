/**
 * Bit operations of the tier's small Bloom filters (the sketch's doorkeeper, the recent rejections),
 * at probe positions the caller derives from a key's hash.
 */

/** Sets bit `i`. */
export function setBit(filter: Uint32Array, i: number): void {
  filter[i >>> 5] = (filter[i >>> 5] as number) | (1 << (i & 31));
}

/** Whether bit `i` is set. */
export function hasBit(filter: Uint32Array, i: number): boolean {
  return (((filter[i >>> 5] as number) >>> (i & 31)) & 1) === 1;
}

/** The least power of two ≥ n (1 for n ≤ 1). */
export function ceilPowerOfTwo(n: number): number {
  let power = 1;
  while (power < n) power *= 2;
  return power;
}
