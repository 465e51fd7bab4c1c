/**
 * The envelope a shared tier stores, and its codec.
 *
 * Format (version 1): the JSON text of `[1, expiresAt, createdAt, value]` — times in epoch ms. JSON
 * because `JSON.parse` runs no code whatever the bytes say (unlike a codec that revives classes), and
 * it is the fastest codec V8 has for plain data. Only plain data is accepted, so what a reader gets back
 * from the shared tier is what the writer cached: plain objects, arrays, strings, finite numbers,
 * booleans and null (-0 reads back as 0). A Date, Map, Set, class instance, function, symbol, bigint or a non-finite number
 * would come back changed or not at all, so it is refused at encode time with an `InvalidValueError`.
 *
 * Decoding never throws: bytes that are not a version-1 envelope (garbage, truncated, a future version)
 * decode to `undefined`, which the tier counts and treats as a miss, and the next fill overwrites them.
 */
import { InvalidValueError, ValueTooLargeError } from './errors.js';

/** The version this codec writes; any other version reads as a miss. */
export const ENVELOPE_VERSION = 1;

/** An entry as a shared tier holds it. */
export interface Envelope {
  /** The cached value (plain data). */
  readonly value: unknown;
  /** Epoch ms after which the value is expired. */
  readonly expiresAt: number;
  /** Epoch ms when the value was written. */
  readonly createdAt: number;
}

/**
 * Encodes an envelope.
 * @throws InvalidValueError for a value that is not plain data; ValueTooLargeError over `maxBytes`.
 */
export function encodeEnvelope(key: string, envelope: Envelope, maxBytes: number): string {
  let body: string | undefined;
  try {
    body = JSON.stringify(envelope.value, plainDataOnly);
  } catch (cause) {
    throw new InvalidValueError(
      key,
      `the shared tier stores plain data (objects, arrays, strings, finite numbers, booleans, null): ${(cause as Error).message}`,
      cause,
    );
  }
  if (body === undefined) throw new InvalidValueError(key, 'undefined cannot be stored; use delete(key).');
  const text = `[${ENVELOPE_VERSION},${envelope.expiresAt},${envelope.createdAt},${body}]`;
  // A UTF-16 unit is at most 3 UTF-8 bytes: measure exactly only when the quick bound is exceeded.
  if (text.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > maxBytes) throw new ValueTooLargeError(key, bytes, maxBytes);
  }
  return text;
}

/** Decodes stored bytes; `undefined` for anything that is not a version-1 envelope within `maxBytes`. */
export function decodeEnvelope(raw: string | Buffer | null | undefined, maxBytes: number): Envelope | undefined {
  if (raw === null || raw === undefined) return undefined;
  if (raw.length > maxBytes) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed) || parsed.length !== 4 || parsed[0] !== ENVELOPE_VERSION) return undefined;
  const [, expiresAt, createdAt, value] = parsed as [number, unknown, unknown, unknown];
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) return undefined;
  if (typeof createdAt !== 'number' || !Number.isFinite(createdAt)) return undefined;
  return { value, expiresAt, createdAt };
}

/** A JSON.stringify replacer that throws on anything that would not come back the same. */
function plainDataOnly(this: unknown, key: string, value: unknown): unknown {
  // `value` has been through toJSON already; the holder still has the original.
  const original = (this as Record<string, unknown>)[key];
  switch (typeof original) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(original)) throw new TypeError(`${describe(key)} is ${original}`);
      return value;
    case 'object':
      if (original === null || Array.isArray(original)) return value;
      if (Object.getPrototypeOf(original) === Object.prototype || Object.getPrototypeOf(original) === null)
        return value;
      throw new TypeError(`${describe(key)} is a ${(original as object).constructor?.name ?? 'non-plain object'}`);
    case 'undefined':
      // Inside an object JSON drops it, which reads back the same (the property is absent either way);
      // inside an array it would turn into null.
      if (Array.isArray(this)) throw new TypeError(`${describe(key)} is undefined inside an array`);
      return value;
    default:
      throw new TypeError(`${describe(key)} is a ${typeof original}`);
  }
}

function describe(key: string): string {
  return key === '' ? 'the value' : `the field ${JSON.stringify(key)}`;
}
