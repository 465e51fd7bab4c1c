import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { createCache, InvalidKeyError } from '../../src/index.js';
import { namespacePrefix, physicalKey, prefixLength, splitPhysicalKey } from '../../src/keys.js';

describe('keys', () => {
  it('refuses empty, non-string, over-long and malformed keys with InvalidKeyError', async () => {
    const cache = createCache({ ttl: '5m', maxKeyLength: 16 });
    const bad: unknown[] = ['', 42, null, undefined, {}, 'x'.repeat(17), 'é'.repeat(9), 'a\uD800b'];
    for (const key of bad) {
      await assert.rejects(
        cache.getOrLoad(key as string, () => 1),
        InvalidKeyError,
        `getOrLoad(${String(key)})`,
      );
      await assert.rejects(cache.set(key as string, 1), InvalidKeyError, `set(${String(key)})`);
    }
    await assert.rejects(cache.get(''), InvalidKeyError);
    await assert.rejects(cache.delete(''), InvalidKeyError);
    await assert.rejects(cache.has(''), InvalidKeyError);
    assert.equal(cache.stats().loads, 0);
  });

  it('measures the length limit in UTF-8 bytes', async () => {
    const cache = createCache({ ttl: '5m', maxKeyLength: 16 });
    assert.equal(await cache.getOrLoad('é'.repeat(8), () => 1), 1); // 16 bytes: fits
    assert.equal(await cache.getOrLoad('x'.repeat(16), () => 2), 2);
    await assert.rejects(
      cache.getOrLoad(`${'é'.repeat(8)}x`, () => 3),
      /17 UTF-8 bytes, over maxKeyLength \(16\)/,
    );
  });

  it('names the key and says what to do in the message', async () => {
    const cache = createCache({ ttl: '5m', maxKeyLength: 8 });
    await assert.rejects(cache.get('menu:123456'), (error: unknown) => {
      assert.ok(error instanceof InvalidKeyError);
      assert.equal(error.key, 'menu:123456');
      assert.match(error.message, /"menu:123456"/);
      assert.match(error.message, /hash long keys, or raise maxKeyLength/);
      return true;
    });
  });

  it('maps distinct (namespace path, key) pairs to distinct physical keys', () => {
    const segment = fc.string({ minLength: 1, maxLength: 6, unit: 'binary' });
    const pair = fc.tuple(
      fc.array(segment, { maxLength: 3 }),
      fc.string({ minLength: 1, maxLength: 8, unit: 'binary' }),
    );
    fc.assert(
      fc.property(pair, pair, ([pathA, keyA], [pathB, keyB]) => {
        const same = keyA === keyB && pathA.length === pathB.length && pathA.every((s, i) => s === pathB[i]);
        const physicalA = physicalKey(namespacePrefix(pathA), keyA);
        const physicalB = physicalKey(namespacePrefix(pathB), keyB);
        return same === (physicalA === physicalB);
      }),
      { numRuns: 20_000 },
    );
  });

  it('reads a physical key back into its namespace path and key (what per-namespace health relies on)', () => {
    const segment = fc.string({ minLength: 1, maxLength: 6, unit: 'binary' });
    const key = fc.string({ minLength: 1, maxLength: 8, unit: 'binary' });
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 3 }), key, (path, caller) => {
        const prefix = namespacePrefix(path);
        const physical = physicalKey(prefix, caller);
        assert.equal(prefixLength(physical), prefix.length);
        assert.deepEqual(splitPhysicalKey(physical), { namespace: path, key: caller });
      }),
      { numRuns: 20_000 },
    );
    // Strings no view made read as root keys, never loop.
    for (const odd of ['\u00019:a|b', '\u0001x:a|b', '\u00011:a', '\u0001']) assert.equal(prefixLength(odd), 0);
  });

  it('keeps crafted keys apart: escapes, separators and look-alike prefixes', () => {
    const pairs: [string[], string][] = [
      [[], '\u00011:a|b'],
      [['a'], 'b'],
      [[], '\u0001\u00011:a|b'],
      [['a|'], 'b'],
      [['a'], '|b'],
      [['1:a'], 'b'],
      [['a', 'b'], 'c'],
      [['a'], '1:b|c'],
      [[], '\u0001'],
      [[], '\u0001\u0001'],
    ];
    const physical = pairs.map(([path, key]) => physicalKey(namespacePrefix(path), key));
    assert.equal(new Set(physical).size, pairs.length);
  });
});
