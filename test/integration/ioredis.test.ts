/**
 * The Redis tier over an ioredis client (what BentoCache users and most services hold): the standalone
 * suites of `redis-tier.test.ts` and `cache-l2.test.ts` — scripts, versions, lock, bus, tags, failures —
 * run again with `connectRedis` handing out ioredis clients. (Their Cluster suites use node-redis: an
 * ioredis Cluster is refused, see `first-hour.test.ts`.)
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { Redis } from 'ioredis';
import { createRedisTier } from '../../src/index.js';
import { connectRedis } from '../helpers/clients.js';
import { RedisServer } from '../helpers/redis-server.js';

// Read by connectRedis when a suite's `before` runs, after every import here.
process.env.TIERCACHE_TEST_CLIENT = 'ioredis';
await import('./redis-tier.test.js');
await import('./cache-l2.test.js');

it('the suites above really ran over ioredis, and the tier drives it', async () => {
  const server = await RedisServer.start();
  const client = await connectRedis(server.url);
  assert.ok((client as unknown) instanceof Redis);
  const tier = createRedisTier({ client });
  await tier.ready();
  await tier.set('k', { value: 1, expiresAt: Date.now() + 60_000, createdAt: Date.now(), delta: 0 }, 60_000);
  assert.equal((await tier.get('k'))?.value, 1);
  assert.ok((await tier.tryLock('lock-me', 1000))?.token, 'the lock script runs through evalsha');
  await tier.close();
  client.destroy();
  await server.stop();
});
