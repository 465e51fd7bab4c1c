/**
 * XFetch, refresh-ahead and the hot-key re-read compose: the hottest key, read at 2,000/s by each of two
 * instances with a 1 s TTL and a 20 ms loader, is reloaded about once per TTL across both — not back to
 * back (it was ~45 loads per TTL in one process: the hot-key re-read window came from `hotKeys.l1Ttl`,
 * 5 s, longer than the TTL itself).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCache } from '../../src/index.js';
import { redisFixture } from '../helpers/redis-server.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('the hottest key under a short TTL', { timeout: 30_000 }, () => {
  const redis = redisFixture();

  it('is loaded at most 1.5 times per TTL across two instances, with the defaults', async () => {
    const { l2 } = redis;
    const instances = [createCache({ ttl: '1s', l2 }), createCache({ ttl: '1s', l2 })];
    let loads = 0;
    const loader = async () => {
      loads++;
      await sleep(20);
      return { id: 1, at: Date.now() };
    };
    const durationMs = 4500;
    const started = Date.now();
    let reads = 0;
    while (Date.now() - started < durationMs) {
      // Two reads per instance per millisecond tick: ~2,000 reads/s each.
      await Promise.all(instances.flatMap((cache) => [cache.getOrLoad('hot', loader), cache.getOrLoad('hot', loader)]));
      reads += 4;
      await sleep(1);
    }
    const elapsed = Date.now() - started;
    const windows = elapsed / 1000;
    const hot = instances.map((cache) => cache.hotKeys().map((h) => h.key));
    console.log(
      `# ${reads} reads in ${elapsed} ms, ${loads} loads (${(loads / windows).toFixed(2)} per TTL), hot: ${JSON.stringify(hot)}, waited: ${instances.map((c) => c.stats().misses).join('/')}`,
    );
    assert.ok(
      hot.some((keys) => keys.includes('hot')),
      'the key was detected hot (otherwise this test proves nothing)',
    );
    // The first load is the cold one; after it, at most 1.5 per TTL window.
    assert.ok(loads <= 1 + Math.ceil(1.5 * windows), `${loads} loads in ${windows.toFixed(1)} TTLs`);
    await Promise.all(instances.map((cache) => cache.close()));
  });
});
