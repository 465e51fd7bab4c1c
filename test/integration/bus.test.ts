/**
 * The invalidation bus over real Redis, as the change streams rely on it: a burst of invalidations is
 * published in batches and arrives complete and in sequence (no gap); `invalidationsSent()` resolves
 * only once what was queued has left — not while Redis is down, and then as soon as it is back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Cache, createCache, createRedisTier, type RedisTier } from '../../src/index.js';
import { eventually } from '../helpers/eventually.js';
import { RedisServer } from '../helpers/redis-server.js';

describe('invalidation bus', () => {
  let server: RedisServer;
  const tiers: RedisTier[] = [];
  const caches: Cache[] = [];

  before(async () => {
    server = await RedisServer.start();
  });
  after(async () => {
    await Promise.all(caches.map((cache) => cache.close()));
    await Promise.all(tiers.map((tier) => tier.close()));
    await server.stop();
  });

  /** A cache with its own tier (its own connections and subscriber), as another process would have. */
  async function instance(): Promise<Cache> {
    const l2 = createRedisTier({ client: server.url, timeout: '200ms' });
    tiers.push(l2);
    await l2.ready();
    const cache = createCache({ ttl: '1h', l2 });
    caches.push(cache);
    return cache;
  }

  it('a burst of 2,000 deletes arrives at another instance complete, in sequence, and sent() says when it left', async () => {
    const [writer, reader] = [await instance(), await instance()];
    await reader.get('warm-up'); // subscribes
    await new Promise((resolve) => setTimeout(resolve, 100));
    await Promise.all(Array.from({ length: 2_000 }, (_, i) => writer.delete(`k${i}`)));
    await writer.invalidationsSent();
    await eventually(() => reader.stats().bus?.received === 2_000, 'all 2,000 received', 5_000);
    assert.equal(reader.stats().bus?.gaps, 0, 'no sequence gap: the batches kept their order');
  });

  it('invalidationsSent() waits while Redis is down, and resolves once it is back and the message left', async () => {
    const writer = await instance();
    await writer.invalidationsSent(); // nothing pending: at once
    await server.kill();
    await writer.delete('edited'); // the delete is deferred; its bus message waits in the queue
    let sent = false;
    const waiting = writer.invalidationsSent().then(() => {
      sent = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(sent, false, 'not sent while Redis is down');
    await server.restart();
    await waiting;
    assert.equal(sent, true);
  });
});
