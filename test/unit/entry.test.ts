import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeEnvelope, encodeEnvelope } from '../../src/entry.js';
import { InvalidValueError, ValueTooLargeError } from '../../src/index.js';

const MAX = 1024 * 1024;
const envelope = (value: unknown) => ({ value, expiresAt: 2_000_000, createdAt: 1_000_000, delta: 12.5 });

describe('envelope codec', () => {
  it('round-trips plain data exactly', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const decoded = decodeEnvelope(encodeEnvelope('k', envelope(value), MAX), MAX);
        // The one change JSON makes to plain data: -0 reads back as 0.
        // (Compared field by field: the decoder returns a class instance, not a literal.)
        assert.deepEqual({ ...decoded }, envelope(JSON.parse(JSON.stringify(value))));
      }),
      { numRuns: 500 },
    );
  });

  it('refuses what would not come back the same, naming the field', () => {
    const bad: [unknown, RegExp][] = [
      [new Date(0), /the value is a Date/],
      [{ at: new Date(0) }, /field "at" is a Date/],
      [{ m: new Map() }, /field "m" is a Map/],
      [new Set([1]), /is a Set/],
      [{ f: () => 1 }, /field "f" is a function/],
      [Symbol('s'), /is a symbol/],
      [10n, /BigInt|bigint/],
      [{ n: Number.NaN }, /field "n" is NaN/],
      [[1, undefined], /undefined inside an array/],
      [new (class Menu {})(), /is a Menu/],
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
      good.replace('[2,', '[3,'),
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
