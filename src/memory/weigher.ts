/**
 * The default weigher: a structural estimate of how many bytes of V8 heap a value holds. It is an
 * estimate, not a measurement — good enough to bound a cache by bytes and to refuse a value that is
 * plainly too large, cheap enough to run on every write (never on a read).
 */

// Rough V8 costs on 64-bit with pointer compression; each has a one-line reason.
/** A heap object's header (map + properties + elements pointers). */
const OBJECT_OVERHEAD = 16;
/** One property slot: a compressed pointer, plus its share of the hidden class / dictionary. */
const SLOT_BYTES = 8;
/** A string's header; the characters follow at up to 2 bytes each (two-byte strings). */
const STRING_OVERHEAD = 16;
/** A boxed double (a heap number) — small integers are free but we do not tell them apart. */
const NUMBER_BYTES = 8;
/** Depth beyond which we stop descending, so a pathological value cannot make a write slow. */
const MAX_DEPTH = 64;

/**
 * Estimates the heap bytes a value holds. Shared references are counted once; cycles are safe.
 * @param value Any value a loader may return.
 * @returns An estimate in bytes, at least 8.
 */
export function estimateSize(value: unknown): number {
  return Math.max(NUMBER_BYTES, weigh(value, 0, undefined));
}

function weigh(value: unknown, depth: number, seen: Set<object> | undefined): number {
  switch (typeof value) {
    case 'string':
      return STRING_OVERHEAD + 2 * value.length;
    case 'number':
    case 'bigint':
      return NUMBER_BYTES;
    case 'boolean':
    case 'undefined':
    case 'symbol':
      return 0;
    case 'function':
      return OBJECT_OVERHEAD;
    default:
      break;
  }
  if (value === null) return 0;
  const object = value as object;
  if (depth >= MAX_DEPTH) return OBJECT_OVERHEAD;
  if (ArrayBuffer.isView(object)) return OBJECT_OVERHEAD + object.byteLength;
  if (object instanceof ArrayBuffer) return OBJECT_OVERHEAD + object.byteLength;
  const visited = seen ?? new Set<object>();
  if (visited.has(object)) return SLOT_BYTES;
  visited.add(object);
  let bytes = OBJECT_OVERHEAD;
  if (Array.isArray(object)) {
    for (const item of object) bytes += SLOT_BYTES + weigh(item, depth + 1, visited);
  } else if (object instanceof Map) {
    for (const [k, v] of object) bytes += 2 * SLOT_BYTES + weigh(k, depth + 1, visited) + weigh(v, depth + 1, visited);
  } else if (object instanceof Set) {
    for (const item of object) bytes += SLOT_BYTES + weigh(item, depth + 1, visited);
  } else if (object instanceof Date) {
    bytes += NUMBER_BYTES;
  } else {
    for (const key in object) {
      if (!Object.hasOwn(object, key)) continue;
      bytes += SLOT_BYTES + weigh((object as Record<string, unknown>)[key], depth + 1, visited);
    }
  }
  return bytes;
}

/**
 * What the L1 spends on an entry besides its value and its key's characters: its slot in the index Map,
 * the per-slot arrays and links, the frequency sketch's share, the key string's header — and the slack
 * of structures that grow by doubling and of a Map churned by evictions. Measured (Node 20,
 * `--expose-gc`): 82 B per entry for a tier filled once; 120–190 B per entry (a 19-character key and a
 * number) for a tier that evicts, at sizes from 5,000 to 100,000 entries.
 */
const ENTRY_BYTES = 128;

/**
 * The bytes an L1 entry costs beyond its value's weight: `maxBytes` bounds the whole entry, so a cache of
 * small values under long keys cannot grow the heap far past it. Keys are counted at a byte a character
 * (V8's one-byte strings); a key with characters past U+00FF costs up to twice that.
 */
export function entryOverhead(key: string): number {
  return ENTRY_BYTES + key.length;
}
