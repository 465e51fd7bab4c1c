/** The model-based check of test/unit/model.test.ts against a real Redis (key escaping, JSON, scripts). */
import { after, before, describe, it } from 'node:test';
import { createCache, createRedisTier, type RedisTier } from '../../src/index.js';
import { FakeClock } from '../helpers/fake-clock.js';
import { checkAgainstModel } from '../helpers/model-check.js';
import { RedisServer } from '../helpers/redis-server.js';

describe('model-based over real Redis', { timeout: 120_000 }, () => {
  let server: RedisServer;
  let l2: RedisTier;
  before(async () => {
    server = await RedisServer.start();
    l2 = createRedisTier({ client: server.url });
  });
  after(async () => {
    await l2.close();
    await server.stop();
  });

  for (const [label, l1] of [
    ['L1 + Redis', true],
    ['Redis only', false],
  ] as const) {
    it(label, async () => {
      await checkAgainstModel(async () => {
        await server.cli('FLUSHALL');
        const clock = new FakeClock(Date.now());
        const cache = createCache({ ttl: 1000, clock, l2, ...(l1 ? {} : { l1: false }) });
        return { cache, clock, done: () => cache.close() };
      }, 40);
    });
  }
});
