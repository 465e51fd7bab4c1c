import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { physicalKey } from '../../src/keys.js';
import { Generations } from '../../src/memcached/generations.js';
import { Ketama } from '../../src/memcached/ketama.js';
import { checkMemcachedPrefix, MAX_KEY_BYTES, memcachedKey } from '../../src/memcached/key-map.js';

/** What memcached accepts as a key: 1–250 bytes, no whitespace or control characters. */
function valid(key: string): boolean {
  if (Buffer.byteLength(key) > MAX_KEY_BYTES || key.length === 0) return false;
  for (const char of key) {
    const code = char.codePointAt(0) as number;
    if (code <= 0x20 || code === 0x7f) return false; // control characters and space
  }
  return !/\s/.test(key);
}

describe('Memcached key mapping', () => {
  it('maps 10,000 pairs of distinct hostile keys onto distinct valid keys', () => {
    const hostile = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.constantFrom('%', '%25', '#', '~1', ' ', '\n', '\r\n', '\u0001', 'x'.repeat(240), 'x'.repeat(241)),
      fc.string({ maxLength: 1200 }),
    );
    fc.assert(
      fc.property(hostile, hostile, fc.constantFrom('tiercache:', 'app/v2:', ''), (a, b, prefix) => {
        // Keys as the cache hands them over: valid UTF-16 (the cache refuses lone surrogates).
        fc.pre(a !== b && a.isWellFormed() && b.isWellFormed());
        const head = `${prefix}1700000000000:`;
        const [ma, mb] = [memcachedKey(head, a), memcachedKey(head, b)];
        assert.ok(valid(ma) && valid(mb), `${JSON.stringify(ma)} / ${JSON.stringify(mb)}`);
        assert.ok(Buffer.byteLength(ma) <= MAX_KEY_BYTES - 10, 'room for a copy suffix');
        assert.notEqual(ma, mb);
      }),
      { numRuns: 10_000 },
    );
  });

  it('keeps namespaced keys apart from root keys that look like them', () => {
    const head = 'p:1:';
    assert.notEqual(memcachedKey(head, physicalKey('', '\u0001x')), memcachedKey(head, physicalKey('\u00011:a|', 'x')));
  });

  it('refuses a prefix memcached could not carry or that would break the mapping', () => {
    for (const bad of ['has space', 'hash#', 'tilde~', 'pct%', 'x'.repeat(101), 7]) {
      assert.throws(() => checkMemcachedPrefix(bad), /prefix/);
    }
    assert.equal(checkMemcachedPrefix('app/v2:'), 'app/v2:');
  });
});

describe('ketama continuum', () => {
  const servers = ['10.0.0.1:11211', '10.0.0.2:11211', '10.0.0.3:11211', '10.0.0.4:11211'].map((name) => ({
    name,
    weight: 1,
  }));
  const keys = Array.from({ length: 20_000 }, (_, i) => `key:${i}`);

  it('spreads keys evenly, and by weight', () => {
    const ring = new Ketama(servers);
    const counts = new Map<string, number>();
    for (const key of keys) counts.set(ring.server(key).name, (counts.get(ring.server(key).name) ?? 0) + 1);
    for (const count of counts.values()) assert.ok(count > 3500 && count < 6500, `${[...counts.values()]}`);
    const weighted = new Ketama([
      { name: 'a:1', weight: 3 },
      { name: 'b:1', weight: 1 },
    ]);
    const heavy = keys.filter((key) => weighted.server(key).name === 'a:1').length / keys.length;
    assert.ok(heavy > 0.65 && heavy < 0.85, `weight 3:1 gives ${heavy.toFixed(2)} to the heavy server`);
  });

  it('moves only the removed server’s keys when one of four goes', () => {
    const full = new Ketama(servers);
    const less = new Ketama(servers.slice(0, 3));
    let moved = 0;
    for (const key of keys) {
      const before = full.server(key).name;
      const after = less.server(key).name;
      if (before !== after) {
        moved++;
        assert.equal(before, servers[3]?.name, 'a key moves only if its server left');
      }
    }
    assert.ok(moved > 3500 && moved < 6500, `${moved} of ${keys.length} moved`);
  });

  it('lists distinct servers walking from the key', () => {
    const ring = new Ketama(servers);
    const walk = ring.servers('some-key', 3);
    assert.equal(walk.length, 3);
    assert.equal(new Set(walk).size, 3);
    assert.equal(walk[0], ring.server('some-key'));
  });
});

describe('generations', () => {
  it('reads each once, refreshes in the background, and never goes back after its own bump', async () => {
    let stored = 100;
    let reads = 0;
    let release: (() => void) | undefined;
    const store = {
      read: async () => {
        reads++;
        const value = String(stored);
        if (release === undefined && reads > 1) await new Promise<void>((resolve) => (release = resolve));
        return value;
      },
      bump: async () => String(++stored),
    };
    const generations = new Generations(store, 1000);
    assert.equal(await generations.head('k', 0), '100:');
    assert.equal(generations.head('k', 500), '100:', 'known and fresh: synchronous, no read');
    assert.equal(reads, 1);
    assert.equal(generations.head('k', 2000), '100:', 'stale: the last value now, a refresh behind');
    await generations.bump('', 2000); // 101, while the refresh (which read 100) is still out
    release?.();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(generations.head('k', 2001), '101:', 'the late refresh does not undo the bump');
    const nested = await generations.head(physicalKey('\u00011:a|', 'x'), 2001);
    assert.match(nested as string, /^101\.\d+:$/, 'a namespaced key carries the root and its namespace');
  });
});
