/**
 * The miss path and the lock protocol, driven over an in-memory tier with locks, fills and versions —
 * no Redis (the integration tests run the same protocol against real servers).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createCache } from '../../src/index.js';
import { deferred, FakeClock } from '../helpers/fake-clock.js';
import { memoryLockingTier } from '../helpers/memory-locking-tier.js';

describe('lock protocol over an in-memory tier', () => {
  it('three instances, 300 concurrent callers of one cold key: one load, everyone gets it', async () => {
    const tier = memoryLockingTier();
    const clock = new FakeClock();
    const instances = [0, 1, 2].map(() => createCache({ ttl: 1000, clock, l2: tier }));
    let loads = 0;
    const gate = deferred<string>();
    const loader = () => {
      loads++;
      return gate.promise;
    };
    const reads = instances.flatMap((cache) => Array.from({ length: 100 }, () => cache.getOrLoad('k', loader)));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(loads, 1, 'one instance holds the lock; the others wait for its fill');
    gate.resolve('v');
    assert.deepEqual(new Set(await Promise.all(reads)), new Set(['v']));
    assert.equal(loads, 1);
    assert.equal(tier.locks.size, 0, 'the lock is released');
    const waited = instances.map((cache) => cache.stats().l2?.lockWaits ?? 0);
    assert.equal(
      waited.reduce((a, b) => a + b, 0),
      2,
    );
  });

  it('the holder looks again under the lock: a value filled just before is not loaded twice', async () => {
    const tier = memoryLockingTier();
    const cache = createCache({ ttl: 1000, clock: new FakeClock(), l2: tier });
    const originalTryLock = tier.tryLock?.bind(tier);
    // Another instance fills the key between this one's L2 miss and its lock.
    tier.tryLock = async (key, ttl) => {
      tier.entries.set(key, { value: 'filled', expiresAt: Number.MAX_SAFE_INTEGER, createdAt: 0, delta: 0 });
      return originalTryLock?.(key, ttl);
    };
    let loads = 0;
    assert.equal(
      await cache.getOrLoad('k', () => {
        loads++;
        return 'loaded';
      }),
      'filled',
    );
    assert.equal(loads, 0);
  });

  it('a store whose lock moved to another holder is refused (the fence), and the caller still gets its value', async () => {
    const tier = memoryLockingTier();
    const cache = createCache({ ttl: 1000, clock: new FakeClock(), l2: tier });
    const value = await cache.getOrLoad('k', () => {
      tier.locks.set('k', 'someone else'); // our lock lapsed and another instance took it
      return 'mine';
    });
    assert.equal(value, 'mine');
    assert.equal(tier.entries.has('k'), false, 'not stored');
    assert.equal(cache.stats().freshness.staleLoadsDropped, 1);
  });
});
