import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { InvalidValueError, type RedisClient, type RedisClusterClient, TierUnavailableError } from '../../src/index.js';
import { namespacePrefix, physicalKey } from '../../src/keys.js';
import { redisKey } from '../../src/redis/key-layout.js';
import { createRedisTier, type RedisTier } from '../../src/redis/redis-tier.js';
import { connectCluster, connectRedis } from '../helpers/clients.js';
import { RedisCluster, RedisServer } from '../helpers/redis-server.js';

const envelope = (value: unknown, ttlMs = 60_000) => ({
  value,
  expiresAt: Date.now() + ttlMs,
  createdAt: Date.now(),
  delta: 0,
});
const menus = (key: string) => physicalKey(namespacePrefix(['menus']), key);
const users = (key: string) => physicalKey(namespacePrefix(['users']), key);

describe('Redis tier, standalone', () => {
  let server: RedisServer;
  let client: RedisClient;
  let tier: RedisTier;

  before(async () => {
    server = await RedisServer.start();
    client = await connectRedis(server.url);
    tier = createRedisTier({ client, timeout: '200ms', breakerFailures: 3, breakerOpen: '300ms' });
  });
  after(async () => {
    await tier.close();
    client.destroy();
    await server.stop();
  });

  it('stores and reads envelopes with a TTL in milliseconds', async () => {
    await tier.set(menus('1'), envelope({ name: 'pho' }), 60_000);
    assert.deepEqual((await tier.get(menus('1')))?.value, { name: 'pho' });
    const pttl = Number(await server.cli('PTTL', redisKey('tiercache:', menus('1'))));
    assert.ok(pttl > 59_000 && pttl <= 60_000, `PTTL ${pttl}`);
    await tier.delete(menus('1'));
    assert.equal(await tier.get(menus('1')), undefined);
  });

  it('reads garbage bytes written with redis-cli as a counted miss, never a throw', async () => {
    const key = redisKey('tiercache:', 'garbage');
    await server.cli('SET', key, '\x01\x02not an envelope\xff');
    const before = { ...tier.counters };
    assert.equal(await tier.get('garbage'), undefined);
    assert.equal(tier.counters.corrupt, before.corrupt + 1);
    assert.equal(tier.counters.misses, before.misses + 1);
    await tier.set('garbage', envelope(1), 1000);
    assert.equal((await tier.get('garbage'))?.value, 1, 'the next fill overwrites it');
  });

  it('refuses a value that is not plain data before touching Redis', async () => {
    await assert.rejects(tier.set('fn', envelope({ f: () => 1 }), 1000), InvalidValueError);
    assert.equal(await server.cli('EXISTS', redisKey('tiercache:', 'fn')), '0');
  });

  it('clears one namespace with SCAN + UNLINK and leaves the other intact, glob characters included', async () => {
    const keys = ['1', '*', '?', '[a]', '{tag}', 'a\nb', '\\'];
    for (const key of keys) {
      await tier.set(menus(key), envelope(key), 60_000);
      await tier.set(users(key), envelope(key), 60_000);
    }
    await tier.clear(namespacePrefix(['menus']));
    for (const key of keys) {
      assert.equal(await tier.get(menus(key)), undefined, `menus ${key}`);
      assert.equal((await tier.get(users(key)))?.value, key, `users ${key}`);
    }
  });

  it('times out, opens the breaker when the server dies, and recovers when it returns', async () => {
    await tier.set('k', envelope('v'), 60_000);
    await server.kill();
    for (let i = 0; i < 3; i++) await assert.rejects(tier.get('k'), TierUnavailableError);
    assert.equal(tier.breakerState, 'open');
    const refusedAt = Date.now();
    await assert.rejects(tier.get('k'), /circuit breaker is open/);
    assert.ok(Date.now() - refusedAt < 50, 'an open breaker answers at once');
    await server.restart();
    await new Promise((resolve) => setTimeout(resolve, 400)); // breakerOpen, then the client reconnects
    let recovered = false;
    for (let i = 0; i < 20 && !recovered; i++) {
      try {
        await tier.get('k'); // the server restarted empty: a miss, but an answer
        recovered = true;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 350));
      }
    }
    assert.ok(recovered, 'the tier answers again after Redis returns');
    assert.equal(tier.breakerState, 'closed');
  });
});

describe('Redis tier, 3-master cluster', () => {
  let cluster: RedisCluster;
  let client: RedisClusterClient;
  let tier: RedisTier;

  before(async () => {
    cluster = await RedisCluster.start(3);
    client = await connectCluster(cluster.urls);
    tier = createRedisTier({ client });
  });
  after(async () => {
    await tier.close();
    client.destroy();
    await cluster.stop();
  });

  it('spreads keys over every master (no caller brace becomes a hash tag) and clears a namespace on all', async () => {
    for (let i = 0; i < 300; i++) {
      await tier.set(menus(`{same}${i}`), envelope(i), 60_000);
      await tier.set(users(`${i}`), envelope(i), 60_000);
    }
    // Value keys only: every write also leaves a version key (same slot) that outlives a clear.
    const valueKeys = async (s: { cli(...args: string[]): Promise<string> }) =>
      (await s.cli('--scan', '--pattern', 'tiercache:d:*')).split('\n').filter((line) => line !== '').length;
    const perNode = await Promise.all(cluster.servers.map(valueKeys));
    assert.equal(
      perNode.reduce((a, b) => a + b, 0),
      600,
    );
    for (const count of perNode) assert.ok(count > 100, `a master holds only ${count} of 600 keys: ${perNode}`);
    await tier.clear(namespacePrefix(['menus']));
    const after = await Promise.all(cluster.servers.map(valueKeys));
    assert.equal(
      after.reduce((a, b) => a + b, 0),
      300,
    );
    assert.equal((await tier.get(users('7')))?.value, 7);
    assert.equal(await tier.get(menus('{same}7')), undefined);
  });
});
