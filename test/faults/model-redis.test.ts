/** The model-based check of test/unit/model.test.ts against a real Redis (key escaping, JSON, scripts). */
import { describe, it } from 'node:test';
import { createCache } from '../../src/index.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { checkAgainstModel } from '../helpers/model-check.js';
import { redisFixture } from '../helpers/redis-server.js';

describe('model-based over real Redis', { timeout: 120_000 }, () => {
  const redis = redisFixture();

  for (const [label, l1] of [
    ['L1 + Redis', true],
    ['Redis only', false],
  ] as const) {
    it(label, async () => {
      await checkAgainstModel(async () => {
        await redis.server.cli('FLUSHALL');
        const clock = new FakeClock(Date.now());
        const cache = createCache({ ttl: 1000, clock, l2: redis.l2, ...(l1 ? {} : { l1: false }) });
        return { cache, clock, done: () => cache.close() };
      }, 40);
    });
  }
});
