import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCache, type SharedTier, TierUnavailableError } from '../../src/index.js';
import { eventually } from '../helpers/eventually.js';
import { memorySharedTier } from '../helpers/memory-shared-tier.js';

/** A memory shared tier with an off switch. */
function flakyTier(): { tier: SharedTier; down: (on: boolean) => void; entries: Map<string, unknown> } {
  const { tier, entries } = memorySharedTier();
  let down = false;
  const guard =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      if (down) throw new TierUnavailableError('memory', 'down');
      return call(...args);
    };
  return {
    tier: { ...tier, get: guard(tier.get), set: guard(tier.set), delete: guard(tier.delete), clear: guard(tier.clear) },
    down: (on) => {
      down = on;
    },
    entries,
  };
}

describe('repair of writes the shared tier did not confirm', () => {
  it('removes the key from the shared tier once it answers, and counts it', async () => {
    const { tier, down, entries } = flakyTier();
    const cache = createCache({ ttl: '1m', l2: tier });
    await cache.set('k', 'old');
    assert.ok(entries.has('k'));
    down(true);
    assert.equal(await cache.set('k', 'new'), 'deferred');
    assert.equal(await cache.get('k'), 'new', 'this instance keeps its write');
    assert.equal(cache.stats().l2?.pending, 1);
    down(false);
    await eventually(() => cache.stats().l2?.pending === 0, 'the repair ran', 3000);
    assert.equal(entries.has('k'), false, 'the old value is gone from the shared tier');
    assert.equal(cache.stats().l2?.repaired, 1);
    await cache.close();
  });

  it('needs no repair when a later write of the key is confirmed', async () => {
    const { tier, down } = flakyTier();
    const cache = createCache({ ttl: '1m', l2: tier });
    down(true);
    await cache.delete('k');
    assert.equal(cache.stats().l2?.pending, 1);
    down(false);
    assert.equal(await cache.set('k', 'v'), 'stored');
    assert.equal(cache.stats().l2?.pending, 0);
    await cache.close();
  });
});
