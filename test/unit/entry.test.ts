import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeEnvelope, encodeEnvelope } from '../../src/entry.js';
import { InvalidValueError, ValueTooLargeError } from '../../src/index.js';

const MAX = 1024 * 1024;
const envelope = (value: unknown) => ({ value, expiresAt: 2_000_000, createdAt: 1_000_000, delta: 12.5 });

describe('envelope codec', () => {
  it('round-trips plain data exactly, written as version 2 (parsed without a reviver)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = encodeEnvelope('k', envelope(value), MAX);
        const decoded = decodeEnvelope(text, MAX);
        // (Compared field by field: the decoder returns a class instance, not a literal.)
        assert.deepEqual({ ...decoded }, envelope(value));
        if (!JSON.stringify(value).includes('$tc') && !hasNegativeZero(value)) assert.ok(text.startsWith('[2,'));
      }),
      { numRuns: 500 },
    );
  });

  it('round-trips what database drivers return: Date, BigInt, Buffer, Uint8Array, Map, Set, NaN, ±Infinity, -0', () => {
    const typed = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.jsonValue(),
        fc.date(),
        fc.bigInt(),
        fc.uint8Array().map((bytes) => Buffer.from(bytes)),
        fc.uint8Array(),
        fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.oneof(fc.string(), fc.constant('$tc'), fc.constant('v')), tie('value'), {
          maxKeys: 4,
          noNullPrototype: true,
        }),
        fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 3 }).map((pairs) => new Map(pairs)),
        fc.array(tie('value'), { maxLength: 3 }).map((items) => new Set(items)),
      ),
    })).value;
    fc.assert(
      fc.property(typed, (value) => {
        const decoded = decodeEnvelope(encodeEnvelope('k', envelope(value), MAX), MAX);
        assert.deepStrictEqual(comparable(decoded?.value), comparable(value));
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps an invalid Date invalid (a driver can return one for a malformed timestamp)', () => {
    const decoded = decodeEnvelope(encodeEnvelope('k', envelope({ at: new Date(Number.NaN) }), MAX), MAX);
    assert.ok(decoded);
    const at = (decoded.value as { at: unknown }).at;
    assert.ok(at instanceof Date);
    assert.ok(Number.isNaN(at.getTime()));
  });

  it('a pg row with a timestamptz, an int8 and a bytea comes back with its types', () => {
    const row = { id: 7n, name: 'Chez Sept', updated_at: new Date('2026-12-01T09:45:00Z'), logo: Buffer.from([1, 2]) };
    const decoded = decodeEnvelope(encodeEnvelope('k', envelope(row), MAX), MAX)?.value as typeof row;
    assert.ok(decoded.updated_at instanceof Date);
    assert.equal(decoded.updated_at.getTime(), row.updated_at.getTime());
    assert.equal(decoded.id, 7n);
    assert.ok(Buffer.isBuffer(decoded.logo));
  });

  it('cannot be fooled by data that looks like a tag', () => {
    const forged = { $tc: 'D', v: 0 };
    const decoded = decodeEnvelope(encodeEnvelope('k', envelope(forged), MAX), MAX);
    assert.deepStrictEqual(decoded?.value, forged);
  });

  it('refuses what would not come back the same, naming the field', () => {
    const bad: [unknown, RegExp][] = [
      [{ f: () => 1 }, /field "f" is a function/],
      [Symbol('s'), /is a symbol/],
      [[1, undefined], /undefined inside an array/],
      [new (class Menu {})(), /is a Menu/],
      [{ at: new (class Point {})() }, /field "at" is a Point/],
      [new Float64Array(2), /is a Float64Array/],
      [{ toJSON: () => 1 }, /toJSON/],
    ];
    for (const [value, message] of bad) {
      assert.throws(
        () => encodeEnvelope('k', envelope(value), MAX),
        (error: unknown) => error instanceof InvalidValueError && message.test(error.message),
        String(message),
      );
    }
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    assert.throws(() => encodeEnvelope('k', envelope(circular), MAX), InvalidValueError);
  });

  it('refuses an encoding over the size cap, in UTF-8 bytes', () => {
    assert.throws(() => encodeEnvelope('k', envelope('é'.repeat(600)), 1000), ValueTooLargeError);
    assert.ok(encodeEnvelope('k', envelope('e'.repeat(600)), 1000));
  });

  it('decodes garbage, truncation, other versions and oversized bytes to undefined, never throwing', () => {
    const good = encodeEnvelope('k', envelope({ a: 1 }), MAX);
    const bad = [
      null,
      undefined,
      '',
      'garbage',
      '\x00\xff\xfe',
      good.slice(0, -3),
      good.replace('[2,', '[4,'),
      good.replace('[2,', '[1,'),
      good.replace(',12.5,', ',-1,'),
      '[1,"soon",1,2]',
      '{"v":1}',
      Buffer.from([0xc3, 0x28, 0xa0]),
    ];
    for (const raw of bad) assert.equal(decodeEnvelope(raw, MAX), undefined, String(raw));
    assert.equal(decodeEnvelope(good, 10), undefined, 'over the decode cap');
    assert.deepEqual(
      { ...decodeEnvelope('[1,2000000,1000000,{"a":1}]', MAX) },
      { ...envelope({ a: 1 }), delta: 0 },
      'v1 reads',
    );
    fc.assert(
      fc.property(fc.string(), (raw) => {
        const decoded = decodeEnvelope(raw, MAX);
        assert.ok(decoded === undefined || typeof decoded.expiresAt === 'number');
      }),
    );
  });
});

function hasNegativeZero(value: unknown): boolean {
  if (Object.is(value, -0)) return true;
  if (typeof value !== 'object' || value === null) return false;
  return Object.values(value).some(hasNegativeZero);
}

/**
 * `value` with every Date replaced by its time as a tagged tuple: node:assert compares Dates by
 * `getTime()` with `!==`, so two invalid Dates (time NaN) never compare equal.
 */
function comparable(value: unknown): unknown {
  if (value instanceof Date) return ['Date', Object.is(value.getTime(), Number.NaN) ? 'NaN' : value.getTime()];
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [comparable(k), comparable(v)]));
  if (value instanceof Set) return new Set([...value].map(comparable));
  if (Array.isArray(value)) return value.map(comparable);
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, comparable(v)]));
  }
  return value;
}
