import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HotKeyDetector } from '../../src/hotkeys/detector.js';
import { createCache, type Envelope, type HotKey } from '../../src/index.js';
import { MemoryTier, MISS } from '../../src/memory/memory-tier.js';
import { seededRandom } from '../../workload/random.js';
import { Zipf } from '../../workload/zipf.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { memorySharedTier } from '../helpers/memory-shared-tier.js';

const settings = { width: 4096, depth: 4, capacity: 32, windowMs: 10_000, sampleEvery: 1, seed: 1234 };

describe('hot-key detector', () => {
  it('finds the top 10 of a Zipf(0.99) stream over 1 M keys with precision ≥ 0.9 in ≤ 64 KiB', (t) => {
    const zipf = new Zipf(1_000_000, 0.99, seededRandom(99));
    for (const sampleEvery of [1, 8]) {
      const detector = new HotKeyDetector({ ...settings, sampleEvery }, 0);
      const events = 2_000_000;
      let recorded = 0;
      // 100 reads per ms of simulated time: 20 s, so the counts decay four times along the way.
      for (let i = 0; i < events; i++) {
        const id = zipf.next();
        if (i % sampleEvery === 0) {
          detector.record(`menu:${id}`, Math.floor(i / 100));
          recorded++;
        }
      }
      const top = detector.hot(events / 100, 0, 0).slice(0, 10);
      const truth = new Set(Array.from({ length: 10 }, (_, rank) => `menu:${rank}`));
      const precision = top.filter((h) => truth.has(h.key)).length / 10;
      // Sketch plus candidates: 32 keys of ≤ 16 UTF-16 units and a number, generously 64 B each.
      const bytes = detector.sketchBytes + settings.capacity * 64;
      t.diagnostic(`sampling 1/${sampleEvery} (${recorded} recorded): top-10 precision ${precision}, ${bytes} bytes`);
      assert.ok(precision >= 0.9, `precision ${precision}: ${top.map((h) => h.key).join(' ')}`);
      assert.ok(bytes <= 64 * 1024);
      // The hottest key's estimated rate and share are close to the truth (100 reads/ms, p ≈ 1/H(1e6, 0.99)).
      const hottest = top[0];
      assert.equal(hottest?.key, 'menu:0');
      let harmonic = 0;
      for (let k = 1; k <= 1_000_000; k++) harmonic += 1 / k ** 0.99;
      const share = 1 / harmonic;
      assert.ok(Math.abs((hottest?.share ?? 0) - share) < share * 0.1, `share ${hottest?.share} vs ${share}`);
      assert.ok(Math.abs((hottest?.rate ?? 0) - share * 100_000) < share * 100_000 * 0.15, `rate ${hottest?.rate}`);
    }
  });

  it('forgets a key that cooled down, and applies the rate and share thresholds', () => {
    const detector = new HotKeyDetector(settings, 0);
    for (let ms = 0; ms < 5000; ms++) {
      for (let i = 0; i < 10; i++) detector.record('celebrity', ms);
      detector.record(`tail:${ms}`, ms);
    }
    const [hot] = detector.hot(5000, 1000, 0.5);
    assert.equal(hot?.key, 'celebrity');
    assert.ok(hot !== undefined && hot.rate > 8000 && hot.rate < 12_000, `rate ${hot?.rate}`);
    assert.deepEqual(detector.hot(5000, 20_000, 0), [], 'below the rate threshold');
    assert.deepEqual(detector.hot(5000, 0, 0.95), [], 'below the share threshold');
    for (let ms = 5000; ms < 60_000; ms++) detector.record(`tail:${ms}`, ms);
    // 55 s later (11 halvings) its estimate is a few reads a second: no longer hot.
    const after = detector.hot(60_000, 0, 0).find((h) => h.key === 'celebrity');
    assert.ok(after === undefined || after.rate < 20, `cooled down, still ${after?.rate}/s`);
    assert.deepEqual(
      detector.hot(60_000, 100, 0).map((h) => h.key),
      [],
    );
  });
});

describe('cache.hotKeys()', () => {
  it('lists the hot keys with their namespace, rate and share; a namespace sees its own', async () => {
    const clock = new FakeClock();
    const cache = createCache({
      ttl: '1h',
      clock,
      hotKeys: { minRate: 100, minShare: 0.05, sampleEvery: 2 },
    });
    const users = cache.namespace('users');
    const load = async () => 'v';
    for (let ms = 0; ms < 2000; ms++) {
      clock.advance(1);
      await cache.getOrLoad('menu:1', load); // 1,000 reads/s
      if (ms % 2 === 0) await users.get('ada'); // 500 reads/s (a miss: still a read)
      await cache.getOrLoad(`tail:${ms}`, load); // 1,000 reads/s over 2,000 keys
    }
    const hot = cache.hotKeys();
    assert.deepEqual(
      hot.map((h) => [h.namespace, h.key]),
      [
        ['/', 'menu:1'],
        ['/users', 'ada'],
      ],
    );
    const [menu, ada] = hot as [HotKey, HotKey];
    assert.ok(Math.abs(menu.rate - 1000) < 150, `menu:1 at ${menu.rate}/s`);
    assert.ok(Math.abs(menu.share - 0.4) < 0.05, `menu:1 share ${menu.share}`);
    assert.ok(Math.abs(ada.rate - 500) < 100, `ada at ${ada.rate}/s`);
    assert.deepEqual(
      users.hotKeys().map((h) => h.key),
      ['ada'],
    );
    assert.deepEqual(createCache({ ttl: '1h', hotKeys: false }).hotKeys(), []);
    assert.throws(() => createCache({ ttl: '1h', hotKeys: { sampleEvery: 0 } }), /hotKeys\.sampleEvery/);
    assert.throws(() => createCache({ ttl: '1h', hotKeys: { minShare: 2 } }), /hotKeys\.minShare/);
  });
});

describe('hot keys in the L1', () => {
  it('are kept in the L1 even where TinyLFU would let them go', () => {
    const survives = (favoured: boolean) => {
      const tier = new MemoryTier({ maxEntries: 100, maxBytes: Number.POSITIVE_INFINITY }, seededRandom(3));
      if (favoured) tier.favoured = (key) => key === 'hot';
      tier.set('hot', 'h', 1, 1e12, 0);
      // 1,000 newcomers, each read twice right away: more frequent, to the sketch, than 'hot' (read once).
      for (let i = 0; i < 1000; i++) {
        tier.set(`k${i}`, i, 1, 1e12, 0);
        tier.get(`k${i}`, 0);
        tier.get(`k${i}`, 0);
      }
      return tier.peek('hot', 0) !== MISS;
    };
    assert.equal(survives(false), false, 'an ordinary key read once is evicted');
    assert.equal(survives(true), true, 'a hot one is kept');
  });

  it('with a shared tier, a hot key is fresh in L1 for l1Ttl at most and re-read from L2 ahead of that', async () => {
    const { tier: l2, entries } = memorySharedTier();
    const clock = new FakeClock();
    const cache = createCache({
      ttl: '1m',
      clock,
      l2,
      earlyRefresh: false,
      hotKeys: { minRate: 1, minShare: 0.5, sampleEvery: 1, l1Ttl: '1s' },
    });
    let loads = 0;
    const loader = async () => `loaded ${++loads}`;
    for (let i = 0; i < 200; i++) {
      clock.advance(5);
      await cache.getOrLoad('hot', loader);
    }
    await sleep(1100); // the detector's report reaches the cache once a second
    assert.deepEqual(
      cache.hotKeys().map((h) => h.key),
      ['hot'],
    );
    await cache.set('hot', 'v2'); // stored while hot: fresh in L1 for 1 s
    const envelope = entries.get('hot') as Envelope;
    entries.set('hot', { ...envelope, value: 'v3' }); // another instance's write whose invalidation was lost
    assert.equal(await cache.getOrLoad('hot', loader), 'v2');
    clock.advance(850); // the last fifth of the capped second
    assert.equal(await cache.getOrLoad('hot', loader), 'v2', 'still answered at once');
    await sleep(0);
    assert.equal(await cache.getOrLoad('hot', loader), 'v3', 're-read from L2 in the background');
    assert.equal(loads, 1, 'no database load for it');
    await cache.close();
  });
});
