/**
 * A seeded 32-bit string hash for the frequency sketch. The seed is drawn per cache from the injected
 * random source, so an attacker who can choose keys cannot precompute a set that collides in the sketch
 * and inflates a victim key's frequency (hash flooding). The mixing is MurmurHash3's: one multiply-rotate
 * per UTF-16 unit and its `fmix32` finaliser (Appleby, 2011), which is fast in V8 via `Math.imul`.
 */

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/**
 * Hashes a string with a seed.
 * @param text The key.
 * @param seed Any 32-bit integer.
 * @returns An unsigned 32-bit hash.
 */
export function hashString(text: string, seed: number): number {
  let h = seed | 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    let k = Math.imul(text.charCodeAt(i), C1);
    k = (k << 15) | (k >>> 17);
    h ^= Math.imul(k, C2);
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  return mix32(h ^ length);
}

/** MurmurHash3's `fmix32`: avalanches every input bit into every output bit. */
export function mix32(value: number): number {
  let h = value | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
