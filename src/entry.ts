/**
 * The envelope a shared tier stores, and its codec.
 *
 * Format (version 2): the JSON text of `[2, expiresAt, createdAt, delta, value]` — times in epoch ms,
 * `expiresAt` the end of freshness (the tier keeps the entry longer, for fail-safe grace), `delta` the
 * milliseconds the load took (XFetch's cost estimate). Version 3 is the same with typed values inside
 * (`Date`, `BigInt`, `Buffer`, `Uint8Array`, `Map`, `Set`, `NaN`, `±Infinity`, `-0`; see `typed-json.ts`),
 * revived on read; a value without them is written as version 2 and parsed without a reviver. Version 1,
 * `[1, expiresAt, createdAt, value]`, is still read (with `delta` 0). JSON because `JSON.parse` runs no
 * code whatever the bytes say (unlike a codec that revives classes), any Node version and other languages
 * read it, and it is the fastest codec V8 has for plain data. A class instance, function or symbol would
 * come back changed or not at all, so it is refused at encode time with an `InvalidValueError`.
 *
 * Decoding never throws: bytes that are not a version-1 or version-2 envelope (garbage, truncated, a future version)
 * decode to `undefined`, which the tier counts and treats as a miss, and the next fill overwrites them.
 */
import { InvalidValueError, ValueTooLargeError } from './errors.js';
import { encodeTyped, reviveTyped } from './typed-json.js';

/** The version this codec writes for plain data. */
export const ENVELOPE_VERSION = 2;
/** The version it writes when the value holds typed values (`typed-json.ts`); revived on read. */
export const TYPED_VERSION = 3;
/** How a typed envelope's text starts. */
const TYPED_PREFIX = `[${TYPED_VERSION},`;

/** An entry as a shared tier holds it. */
export interface Envelope {
  /** The cached value (plain data). */
  readonly value: unknown;
  /** Epoch ms after which the value is no longer fresh (it may still be served as stale within grace). */
  readonly expiresAt: number;
  /** Epoch ms when the value was written. */
  readonly createdAt: number;
  /** How long the load that produced the value took, in ms (0: unknown, or written by `set`). */
  readonly delta: number;
  /**
   * The physical tags the value is written with (not part of the encoded bytes: a tier that keeps tags
   * records them beside the value, so a rewrite without a tag drops it). Absent on a decoded envelope.
   */
  readonly tags?: readonly string[];
}

/**
 * Encodes an envelope.
 * @throws InvalidValueError for a value that is not plain data; ValueTooLargeError over `maxBytes`.
 */
export function encodeEnvelope(key: string, envelope: Envelope, maxBytes: number): string {
  let encoded: ReturnType<typeof encodeTyped>;
  try {
    encoded = encodeTyped(envelope.value);
  } catch (cause) {
    throw new InvalidValueError(
      key,
      `the shared tier stores data (objects, arrays, strings, numbers, booleans, null, Date, BigInt, Buffer, Uint8Array, Map, Set): ${(cause as Error).message}`,
      cause,
    );
  }
  const body = encoded.text;
  if (body === undefined) throw new InvalidValueError(key, 'undefined cannot be stored; use delete(key).');
  const version = encoded.tagged ? TYPED_VERSION : ENVELOPE_VERSION;
  const text = `[${version},${envelope.expiresAt},${envelope.createdAt},${envelope.delta},${body}]`;
  // A UTF-16 unit is at most 3 UTF-8 bytes: measure exactly only when the quick bound is exceeded.
  if (text.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > maxBytes) throw new ValueTooLargeError(key, bytes, maxBytes);
  }
  return text;
}

/** Decodes stored bytes; `undefined` for anything that is not a version-1 or -2 envelope within `maxBytes`. */
export function decodeEnvelope(raw: string | Buffer | null | undefined, maxBytes: number): Envelope | undefined {
  if (raw === null || raw === undefined) return undefined;
  if (raw.length > maxBytes) return undefined;
  let parsed: unknown;
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  try {
    // Plain data (version 2) parses without a reviver: the common case pays nothing for typed values.
    parsed = text.startsWith(TYPED_PREFIX) ? JSON.parse(text, reviveTyped) : JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  let delta: unknown = 0;
  let value: unknown;
  if (parsed.length === 5 && (parsed[0] === ENVELOPE_VERSION || parsed[0] === TYPED_VERSION)) {
    delta = parsed[3];
    value = parsed[4];
  } else if (parsed.length === 4 && parsed[0] === 1) {
    value = parsed[3];
  } else {
    return undefined;
  }
  const expiresAt: unknown = parsed[1];
  const createdAt: unknown = parsed[2];
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) return undefined;
  if (typeof createdAt !== 'number' || !Number.isFinite(createdAt)) return undefined;
  if (typeof delta !== 'number' || !(delta >= 0 && delta < Number.POSITIVE_INFINITY)) return undefined;
  return new DecodedEnvelope(value, expiresAt, createdAt, delta);
}

/** What a shared tier counts of its reads. */
export interface ReadCounters {
  hits: number;
  misses: number;
  /** Reads whose bytes did not decode (counted as misses too). */
  corrupt: number;
}

/**
 * A shared tier's read, decoded and counted: nothing stored (`null`) is a miss; bytes that do not decode
 * are a corrupt miss, never an exception (the next fill overwrites them).
 */
export function decodeCounted(
  raw: string | Buffer | null,
  maxBytes: number,
  counters: ReadCounters,
): Envelope | undefined {
  if (raw === null) {
    counters.misses++;
    return undefined;
  }
  const envelope = decodeEnvelope(raw, maxBytes);
  if (envelope === undefined) {
    counters.corrupt++;
    counters.misses++;
    return undefined;
  }
  counters.hits++;
  return envelope;
}

/**
 * A decoded envelope. A class, not an object literal, because one is made per shared-tier hit and V8
 * may allocate a literal's objects in the old generation for good after one burst of survivors; an
 * old envelope would keep its value alive until the next full GC (see single-flight.ts).
 */
class DecodedEnvelope implements Envelope {
  constructor(
    readonly value: unknown,
    readonly expiresAt: number,
    readonly createdAt: number,
    readonly delta: number,
  ) {}
}
