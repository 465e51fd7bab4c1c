/** The cache against a model (a Map with TTLs), over random operation sequences with hostile keys. */
import { describe, it } from 'node:test';
import { createCache } from '../../src/index.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { memorySharedTier } from '../helpers/memory-shared-tier.js';
import { checkAgainstModel } from '../helpers/model-check.js';

describe('model-based: the cache answers what a Map with TTLs would', () => {
  for (const [label, tiers] of [
    ['L1 only', 'l1'],
    ['L1 + shared tier', 'both'],
    ['shared tier only', 'l2'],
  ] as const) {
    it(label, async () => {
      await checkAgainstModel(async () => {
        const clock = new FakeClock();
        const l2 = tiers === 'l1' ? undefined : memorySharedTier().tier;
        const cache = createCache({
          ttl: 1000,
          clock,
          ...(tiers === 'l2' ? { l1: false } : {}),
          ...(l2 ? { l2 } : {}),
        });
        return { cache, clock, done: () => cache.close() };
      }, 150);
    });
  }
});
