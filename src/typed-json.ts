/**
 * JSON that keeps the types a database driver returns: `Date` (pg's `timestamptz`), `BigInt` (pg's
 * `int8` with `parseInt8` off, mysql2's `supportBigNumbers`), `Buffer` / `Uint8Array` (`bytea`, `BLOB`),
 * `Map`, `Set`, `NaN`, `±Infinity` and `-0`. Each is written as a tagged object
 * `{"$tc":"<tag>","v":<data>}`; a plain object that itself has a `$tc` key is escaped (tag `O`, its
 * entries), so a tag can never be forged by data.
 *
 * Why this and not v8.serialize, msgpackr or CBOR: the bytes stay JSON (readable in redis-cli, readable by
 * every Node version and by other languages), `JSON.parse` still runs no code the bytes choose, and plain
 * data — the common case — pays nothing on decode: the encoder notes whether it wrote any tag, and only
 * then does the reader revive (`bench/codec.ts` measures the alternatives).
 *
 * Anything else that is not plain data (a class instance, a function, a symbol, another typed array, an
 * object with `toJSON`) is refused with a TypeError naming the field, because it would not come back the
 * same.
 */

/** The key of a tagged object. */
const TAG = '$tc';

/** Whether the encoding under way wrote a tag. `JSON.stringify` is synchronous: one pass at a time. */
let tagged = false;

/**
 * The JSON text of `value` (`undefined` for `undefined`), and whether it holds tags — then the reader must
 * revive it with {@link reviveTyped}. @throws TypeError naming the field for what is not data.
 */
export function encodeTyped(value: unknown): { readonly text: string | undefined; readonly tagged: boolean } {
  tagged = false;
  const text = JSON.stringify(value, replace);
  return { text, tagged };
}

function replace(this: unknown, key: string, value: unknown): unknown {
  // `value` has been through toJSON already; the holder still has the original.
  const original = (this as Record<string, unknown>)[key];
  switch (typeof original) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(original) && !Object.is(original, -0)) return value;
      tagged = true;
      return { [TAG]: 'N', v: Object.is(original, -0) ? '-0' : String(original) };
    case 'bigint':
      tagged = true;
      return { [TAG]: 'B', v: original.toString() };
    case 'object': {
      if (original === null || Array.isArray(original)) return value;
      const prototype = Object.getPrototypeOf(original);
      if (prototype === Object.prototype || prototype === null) {
        // JSON.stringify would store what toJSON returns while the L1 keeps the object: two tiers, two values.
        if (typeof (original as { toJSON?: unknown }).toJSON === 'function') {
          throw new TypeError(`${describe(key)} has a toJSON method; cache the plain data it stands for`);
        }
        if (!Object.hasOwn(original, TAG)) return value;
        tagged = true;
        return { [TAG]: 'O', v: Object.entries(original) };
      }
      return special(key, original as object);
    }
    case 'undefined':
      // Inside an object JSON drops it, which reads back the same (the property is absent either way);
      // inside an array it would turn into null.
      if (Array.isArray(this)) throw new TypeError(`${describe(key)} is undefined inside an array`);
      return value;
    default:
      throw new TypeError(`${describe(key)} is a ${typeof original}`);
  }
}

/** A Date, Buffer, Uint8Array, Map or Set as a tagged object; anything else refused. */
function special(key: string, original: object): unknown {
  let result: unknown;
  if (original instanceof Date) result = { [TAG]: 'D', v: original.getTime() };
  else if (Buffer.isBuffer(original)) result = { [TAG]: 'Buf', v: original.toString('base64') };
  else if (original instanceof Uint8Array && original.constructor === Uint8Array) {
    const bytes = Buffer.from(original.buffer, original.byteOffset, original.byteLength);
    result = { [TAG]: 'U8', v: bytes.toString('base64') };
  } else if (original instanceof Map) result = { [TAG]: 'M', v: [...original] };
  else if (original instanceof Set) result = { [TAG]: 'S', v: [...original] };
  else throw new TypeError(`${describe(key)} is a ${original.constructor?.name ?? 'non-plain object'}`);
  tagged = true;
  return result;
}

/** `JSON.parse`'s reviver for text a {@link TypedEncoder} tagged. Malformed tags are left as they are. */
export function reviveTyped(_key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  const tag = record[TAG];
  if (typeof tag !== 'string' || !Object.hasOwn(record, 'v')) return value;
  const v = record.v;
  switch (tag) {
    case 'N':
      return v === '-0'
        ? -0
        : v === 'NaN'
          ? Number.NaN
          : v === 'Infinity'
            ? Infinity
            : v === '-Infinity'
              ? -Infinity
              : value;
    case 'B':
      return typeof v === 'string' && /^-?\d+$/.test(v) ? BigInt(v) : value;
    case 'D':
      return typeof v === 'number' ? new Date(v) : value;
    case 'Buf':
      return typeof v === 'string' ? Buffer.from(v, 'base64') : value;
    case 'U8':
      return typeof v === 'string' ? new Uint8Array(Buffer.from(v, 'base64')) : value;
    case 'M':
      return Array.isArray(v) && v.every(isPair) ? new Map(v as [unknown, unknown][]) : value;
    case 'S':
      return Array.isArray(v) ? new Set(v) : value;
    case 'O':
      return Array.isArray(v) && v.every((entry) => isPair(entry) && typeof entry[0] === 'string')
        ? Object.fromEntries(v as [string, unknown][])
        : value;
    default:
      return value;
  }
}

function isPair(entry: unknown): entry is [unknown, unknown] {
  return Array.isArray(entry) && entry.length === 2;
}

function describe(key: string): string {
  return key === '' ? 'the value' : `the field ${JSON.stringify(key)}`;
}
