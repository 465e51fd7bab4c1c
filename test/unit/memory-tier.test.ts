import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MemoryTier, MISS } from '../../src/memory/memory-tier.js';
import { seededRandom } from '../../workload/random.js';

const FOREVER = Number.MAX_SAFE_INTEGER;
const tier = (maxEntries: number, maxBytes = Number.POSITIVE_INFINITY, seed = 7) =>
  new MemoryTier({ maxEntries, maxBytes }, seededRandom(seed));

describe('MemoryTier', () => {
  it('returns what was set, by reference', () => {
    const t = tier(10);
    const value = { a: 1 };
    t.set('k', value, 8, FOREVER, 0);
    assert.equal(t.get('k', 0), value);
    assert.equal(t.peek('k', 0), value);
    assert.equal(t.get('missing', 0), MISS);
  });

  it('never holds more than maxEntries', () => {
    const t = tier(100);
    for (let i = 0; i < 10_000; i++) t.set(`k${i}`, i, 8, FOREVER, 0);
    assert.equal(t.size, 100);
    assert.equal(t.counters.evictions, 9_900);
  });

  it('never holds more than maxBytes, and refuses an entry heavier than the whole tier', () => {
    const t = tier(Number.POSITIVE_INFINITY, 1000);
    for (let i = 0; i < 500; i++) t.set(`k${i}`, i, 1 + (i % 50), FOREVER, 0);
    assert.ok(t.bytes <= 1000, `bytes ${t.bytes}`);
    t.set('k1', 'old', 10, FOREVER, 0);
    assert.equal(t.set('k1', 'huge', 1001, FOREVER, 0), false);
    assert.equal(t.peek('k1', 0), MISS, 'a refused write drops the older value');
  });

  it('keeps the numbers of every slot through growth: exact times, whole-byte weights that sum back to zero', () => {
    // 1,000 entries grow the slot arrays from 256 four times; a custom weigher may return fractions.
    const t = tier(Number.POSITIVE_INFINITY, 1_000_000);
    const expiry = 1_767_225_600_123.5;
    for (let i = 0; i < 1000; i++) t.set(`k${i}`, i, 10.25, expiry + i, 0, expiry + i - 7, 3.5);
    assert.equal(t.bytes, 11_000, 'each weight is rounded up to whole bytes');
    for (let i = 0; i < 1000; i++) {
      assert.equal(t.peek(`k${i}`, 0), i);
      assert.equal(t.expiresAt, expiry + i);
      assert.equal(t.freshUntil, expiry + i - 7);
      assert.equal(t.delta, 3.5);
    }
    t.set('k5', 'heavier', 20.5, expiry, 0);
    assert.equal(t.bytes, 11_010);
    for (let i = 0; i < 1000; i++) t.delete(`k${i}`, 0);
    assert.equal(t.bytes, 0);
    assert.equal(t.size, 0);
  });

  it('expires entries on read, without a timer', () => {
    const t = tier(10);
    t.set('k', 'v', 8, 100, 0);
    assert.equal(t.get('k', 99), 'v');
    assert.equal(t.get('k', 100), MISS);
    assert.equal(t.size, 0);
    assert.equal(t.counters.expirations, 1);
  });

  it('sweeps expired entries during writes', () => {
    const t = tier(10_000);
    for (let i = 0; i < 1000; i++) t.set(`old${i}`, i, 8, 100, 0);
    // Each write inspects two slots, so ⌈slots / 2⌉ writes reach every old entry wherever the cursor starts.
    for (let i = 0; i < 501; i++) t.set(`new${i}`, i, 8, FOREVER, 200);
    assert.equal(t.size, 501);
    assert.equal(t.counters.expirations, 1000);
  });

  it('evicts expired entries before live ones when full', () => {
    const t = tier(100);
    for (let i = 0; i < 99; i++) t.set(`live${i}`, i, 8, FOREVER, 0);
    t.set('dying', 'x', 8, 50, 0);
    for (let i = 0; i < 99; i++) for (let r = 0; r < 3; r++) t.get(`live${i}`, 0); // popular
    for (let r = 0; r < 10; r++) t.get('dying', 0); // the most popular of all, but about to die
    t.set('new', 'y', 8, FOREVER, 60);
    assert.equal(t.peek('dying', 60), MISS);
    assert.equal(t.counters.expirations, 1);
    assert.equal(t.counters.evictions, 0);
    assert.equal(t.size, 100);
  });

  it('keeps a frequently read hot set through a scan of one-hit wonders (LRU would not)', () => {
    const t = tier(1000);
    const hot = Array.from({ length: 500 }, (_, i) => `hot${i}`);
    for (let round = 0; round < 5; round++)
      for (const key of hot) if (t.get(key, 0) === MISS) t.set(key, key, 8, FOREVER, 0);
    for (let i = 0; i < 20_000; i++) if (t.get(`scan${i}`, 0) === MISS) t.set(`scan${i}`, i, 8, FOREVER, 0);
    const survivors = hot.filter((key) => t.peek(key, 0) !== MISS).length;
    assert.ok(survivors >= 490, `only ${survivors} of 500 hot keys survived the scan`);
  });

  it('admits a newcomer once it is more popular than the victim', () => {
    const t = tier(100);
    for (let i = 0; i < 100; i++) t.set(`k${i}`, i, 8, FOREVER, 0);
    // A newcomer seen many times (misses count when the caller then sets it) wins a place.
    for (let r = 0; r < 6; r++) t.set('rising', r, 8, FOREVER, 0);
    assert.equal(t.peek('rising', 0), 5);
  });

  /** Reads a key as a cache-aside caller would: a miss sets it. @returns whether it hit. */
  function read(t: MemoryTier, key: string): boolean {
    if (t.get(key, 0) !== MISS) return true;
    t.set(key, key, 8, FOREVER, 0);
    return false;
  }

  /**
   * A tier of 100 entries with Caffeine's fixed 1 % window (one slot; the tuner would move it), full of
   * keys read 8 times each: every one is more popular than a newcomer.
   */
  function popularTier(): { t: MemoryTier; popular: string[]; readPopular: (times: number) => void } {
    const t = new MemoryTier({ maxEntries: 100, maxBytes: Number.POSITIVE_INFINITY }, seededRandom(7), undefined, 0.01);
    const popular = Array.from({ length: 100 }, (_, i) => `p${i}`);
    const readPopular = (times: number) => {
      for (let i = 0; i < times; i++) {
        const key = popular[i % popular.length] as string;
        if (t.get(key, 0) === MISS) t.set(key, key, 8, FOREVER, 0);
      }
    };
    readPopular(100);
    // One key past the bound: the sketch starts afresh at twice its size when the tier first fills
    // (memory-tier.ts), so the counts that matter are taken after this.
    read(t, 'filler');
    readPopular(800);
    return { t, popular, readPopular };
  }

  it('admits a key read again soon after the filter turned it away (an LRU of its size would have kept it)', () => {
    const { t, readPopular } = popularTier();
    assert.equal(read(t, 'x'), false);
    // A few writes later 'x' has left the one-slot window and lost its duel with a popular victim.
    for (let i = 0; i < 3; i++) read(t, `other${i}`);
    assert.equal(t.peek('x', 0), MISS, 'the filter turned x away (twice seen vs eight times)');
    readPopular(20);
    // Read again 20 reads later, well within the tier's 100: this time it goes into main and stays.
    assert.equal(read(t, 'x'), false);
    for (let i = 3; i < 6; i++) read(t, `other${i}`);
    assert.notEqual(t.peek('x', 0), MISS, 'x was admitted on its re-read');
    assert.equal(read(t, 'x'), true);
  });

  it('leaves that to the frequency filter when the re-read comes a cache-size or more later', () => {
    const { t, readPopular } = popularTier();
    read(t, 'x');
    for (let i = 0; i < 3; i++) read(t, `other${i}`);
    assert.equal(t.peek('x', 0), MISS);
    // 100 reads later an LRU of 100 entries would have lost x too: the sketch decides, and it says no.
    readPopular(100);
    read(t, 'x');
    for (let i = 3; i < 6; i++) read(t, `other${i}`);
    assert.equal(t.peek('x', 0), MISS, 'x turned away again');
  });

  it('keeps a hot set through a loop of three times its capacity, read five times over', () => {
    const { t, popular } = popularTier();
    // Each loop key comes back 300 reads after it was turned away: beyond the re-read rule's reach.
    for (let round = 0; round < 5; round++) for (let i = 0; i < 300; i++) read(t, `loop${i}`);
    const survivors = popular.filter((key) => t.peek(key, 0) !== MISS).length;
    assert.ok(survivors >= 95, `only ${survivors} of 100 popular keys survived the loop`);
  });

  it('counts hits in the entry and adds them to the sketch when it leaves', () => {
    const t = tier(64);
    t.set('k', 1, 8, FOREVER, 0); // the doorkeeper's sighting
    for (let i = 0; i < 5; i++) t.get('k', 0);
    t.peek('k', 0);
    assert.equal(t.lastFrequency, 6, 'doorkeeper + 5 hits held in the record');
    // Leaving hands the hits to the sketch: back again, the key's history is there.
    t.delete('k', 0);
    t.set('k', 2, 8, FOREVER, 0);
    t.peek('k', 0);
    assert.equal(t.lastFrequency, 7, '5 hits from the sketch, + 1 for the new sighting, + doorkeeper');
    for (let i = 0; i < 7; i++) t.get('k', 0);
    t.peek('k', 0);
    assert.equal(t.lastFrequency, 14);
  });

  it('halves the hits an entry holds when the sketch ages, and forgets them when it starts afresh', () => {
    // A fixed window: the tuner would otherwise move entries between segments on its own schedule.
    const t = new MemoryTier({ maxEntries: 64, maxBytes: Number.POSITIVE_INFINITY }, seededRandom(7), undefined, 0.01);
    t.set('k', 1, 8, FOREVER, 0);
    for (let i = 0; i < 9; i++) t.get('k', 0);
    t.peek('k', 0);
    assert.equal(t.lastFrequency, 10);
    // Filling the tier starts the sketch afresh at twice the size (see set): held hits go with it.
    for (let i = 0; i < 64; i++) t.set(`fill${i}`, i, 8, FOREVER, 0);
    assert.notEqual(t.peek('k', 0), MISS);
    assert.equal(t.lastFrequency, 0);
    for (let i = 0; i < 14; i++) t.get('k', 0);
    t.peek('k', 0);
    assert.equal(t.lastFrequency, 14);
    // 10 sightings per unit of the sketch's capacity (130 now) age it once: 14 held hits halve to 7.
    for (let i = 0; i < 1300 - 14; i++) t.set(`other${i}`, i, 8, FOREVER, 0);
    assert.notEqual(t.peek('k', 0), MISS);
    assert.equal(t.lastFrequency, 7);
  });

  it('deletes, deletes by predicate, and clears', () => {
    const t = tier(100);
    for (let i = 0; i < 10; i++) t.set(i % 2 === 0 ? `even${i}` : `odd${i}`, i, 8, FOREVER, 0);
    assert.equal(t.delete('even0', 0), true);
    assert.equal(t.delete('even0', 0), false);
    assert.equal(
      t.deleteWhere((key) => key.startsWith('odd'), 0),
      5,
    );
    assert.deepEqual([...t.keys()].sort(), ['even2', 'even4', 'even6', 'even8']);
    t.clear();
    assert.equal(t.size, 0);
    assert.equal(t.bytes, 0);
    t.set('again', 1, 8, FOREVER, 0);
    assert.equal(t.get('again', 0), 1);
  });

  it('updates weight on overwrite', () => {
    const t = tier(10, 100);
    t.set('k', 'a', 40, FOREVER, 0);
    t.set('k', 'b', 90, FOREVER, 0);
    assert.equal(t.bytes, 90);
    t.set('j', 'c', 20, FOREVER, 0);
    assert.ok(t.bytes <= 100);
  });

  it('a large list gives a key read since it moved a second chance at its LRU end (CLOCK)', () => {
    // Window share 1: the whole tier is one list, over the size where reads stop moving slots.
    const t = new MemoryTier({ maxEntries: 2000, maxBytes: Number.POSITIVE_INFINITY }, seededRandom(7), undefined, 1);
    for (let i = 0; i < 2000; i++) t.set(`k${i}`, i, 8, FOREVER, 0);
    assert.notEqual(t.get('k0', 0), MISS);
    t.set('new1', 1, 8, FOREVER, 0);
    // k0 was the LRU slot, but was read: it stays, and the next slot, never read, leaves.
    assert.notEqual(t.peek('k0', 0), MISS);
    assert.equal(t.peek('k1', 0), MISS);
    // It now sits at the MRU end, as LRU would have put it: the next slot in line leaves next.
    t.set('new2', 2, 8, FOREVER, 0);
    assert.notEqual(t.peek('k0', 0), MISS);
    assert.equal(t.peek('k2', 0), MISS);
    assert.equal(t.size, 2000);
  });

  it('a pass over a large list of read slots ends after a bounded number of second chances', () => {
    const t = new MemoryTier({ maxEntries: 5000, maxBytes: Number.POSITIVE_INFINITY }, seededRandom(7), undefined, 1);
    for (let i = 0; i < 5000; i++) t.set(`k${i}`, i, 8, FOREVER, 0);
    for (let i = 0; i < 5000; i++) t.get(`k${i}`, 0);
    t.set('new', 1, 8, FOREVER, 0);
    // Every slot was read, so every one could claim a chance. The pass gives the oldest a few (k0 stays),
    // then stops and evicts one of the first few hundred, rather than cycling through all 5,000 and
    // coming back to k0.
    const gone = Array.from({ length: 5000 }, (_, i) => i).filter((i) => t.peek(`k${i}`, 0) === MISS);
    assert.equal(gone.length, 1);
    assert.ok((gone[0] as number) > 0 && (gone[0] as number) < 500, `evicted k${gone[0]}`);
    assert.notEqual(t.peek('new', 0), MISS);
  });

  it('property: with lists large enough for CLOCK, bounds hold and reads return the last write', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 4000 }), { minLength: 3000, maxLength: 6000 }), (keys) => {
        const t = tier(1500);
        const written = new Map<string, number>();
        let version = 0;
        for (const k of keys) {
          const key = `k${k}`;
          const got = t.get(key, 0);
          if (got === MISS) {
            t.set(key, ++version, 8, FOREVER, 0);
            written.set(key, version);
          } else assert.equal(got, written.get(key));
          assert.ok(t.size <= 1500);
        }
      }),
      { numRuns: 30 },
    );
  });

  it('property: bounds always hold and a live key returns the last value written', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('set' as const),
        key: fc.integer({ min: 0, max: 60 }),
        weight: fc.integer({ min: 1, max: 40 }),
        ttl: fc.integer({ min: 1, max: 50 }),
      }),
      fc.record({ kind: fc.constant('get' as const), key: fc.integer({ min: 0, max: 60 }) }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 60 }) }),
      fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 10 }) }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 40, max: 400 }),
        fc.array(op, { maxLength: 400 }),
        (maxEntries, maxBytes, ops) => {
          const t = tier(maxEntries, maxBytes);
          const model = new Map<string, { value: number; expiresAt: number }>();
          let now = 0;
          let version = 0;
          for (const o of ops) {
            if (o.kind === 'tick') {
              now += o.ms;
              continue;
            }
            const key = `k${o.key}`;
            if (o.kind === 'set') {
              version++;
              t.set(key, version, o.weight, now + o.ttl, now);
              model.set(key, { value: version, expiresAt: now + o.ttl });
            } else if (o.kind === 'delete') {
              t.delete(key, 0);
              model.delete(key);
            } else {
              const got = t.get(key, now);
              const expected = model.get(key);
              // The tier may have evicted the key, but if it answers, it answers with the last write,
              // and never with an expired or deleted value.
              if (got !== MISS) {
                assert.ok(expected !== undefined && expected.expiresAt > now, `${key} served after delete or expiry`);
                assert.equal(got, expected.value);
              }
            }
            assert.ok(t.size <= maxEntries, `size ${t.size} > ${maxEntries}`);
            assert.ok(t.bytes <= maxBytes, `bytes ${t.bytes} > ${maxBytes}`);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
