/**
 * A Redis Cluster with replicas under load: a master killed (automatic failover), a manual
 * `CLUSTER FAILOVER`, and slots resharded under load (MOVED / ASK). While a loader is available no
 * caller request may fail, and once writes stop every instance must read what the database holds.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { type Cache, createCache, createRedisTier, type RedisTier } from '../../src/index.js';
import { RedisCluster } from '../helpers/redis-server.js';

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const KEYS = 200;

async function until(check: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(100);
  }
}

describe('Redis Cluster with replicas: failover and resharding under load', { timeout: 120_000 }, () => {
  let cluster: RedisCluster;
  const tiers: RedisTier[] = [];
  before(async () => {
    cluster = await RedisCluster.start(3, 1);
  });
  after(async () => {
    await Promise.all(tiers.map((tier) => tier.close()));
    await cluster.stop();
  });

  it('fails no request while a loader is available, and serves no stale value after quiesce', async () => {
    const db = new Map<number, number>(Array.from({ length: KEYS }, (_, id) => [id, 0]));
    const row = (id: number) => ({ id, version: db.get(id) });
    const instances: Cache[] = [0, 1].map(() => {
      const tier = createRedisTier({ client: cluster.urls, timeout: '300ms' });
      tiers.push(tier);
      return createCache({ ttl: '1m', l2: tier });
    });
    const load = (id: number) => async () => {
      await sleep(1);
      return row(id);
    };
    let failed = 0;
    let reads = 0;
    let writes = 0;
    let stop = false;
    const firstErrors: unknown[] = [];
    const reader = async (cache: Cache) => {
      while (!stop) {
        const id = Math.floor(Math.random() * KEYS);
        try {
          await cache.getOrLoad(`menu:${id}`, load(id));
          reads++;
        } catch (error) {
          failed++;
          if (firstErrors.length < 3) firstErrors.push(error);
        }
        await sleep(1);
      }
    };
    const writer = async (cache: Cache) => {
      while (!stop) {
        const id = Math.floor(Math.random() * KEYS);
        try {
          await cache.writeThrough(`menu:${id}`, null, () => db.set(id, (db.get(id) as number) + 1));
          // The cached value is whatever the next read loads: write-through here stores the row.
          await cache.delete(`menu:${id}`);
          writes++;
        } catch (error) {
          failed++;
          if (firstErrors.length < 3) firstErrors.push(error);
        }
        await sleep(5);
      }
    };
    const load_ = instances.flatMap((cache) => [reader(cache), reader(cache), writer(cache)]);

    await sleep(1000);
    // 1. Kill a master: its replica takes over after cluster-node-timeout.
    const [victim] = await cluster.masters();
    assert.ok(victim !== undefined);
    await victim.kill();
    await until(async () => (await cluster.masters()).length === 3, 'a replica is promoted');
    await cluster.settled(cluster.servers.filter((server) => server !== victim));
    await sleep(500);
    // It comes back as a replica of its successor.
    await victim.restart();
    await until(async () => (await cluster.replicas()).length === 3, 'the old master rejoins as a replica');
    await cluster.settled();
    // 2. A manual failover of a healthy master.
    const [replica] = (await cluster.replicas()).filter((server) => server !== victim);
    assert.ok(replica !== undefined);
    await replica.cli('CLUSTER', 'FAILOVER');
    await until(async () => (await replica.cli('ROLE')).startsWith('master'), 'the manual failover completes');
    await cluster.settled();
    await sleep(500);
    // 3. Move slots between two masters under load (MOVED, then ASK during the migration).
    const [from, to] = await cluster.masters();
    if (from !== undefined && to !== undefined) {
      // redis-cli refuses to reshard until every node agrees on the configuration after the failovers.
      await until(async () => {
        await run('redis-cli', ['--cluster', 'check', `127.0.0.1:${to.port}`]);
        return true;
      }, 'every node agrees on the slots');
      await run('redis-cli', [
        '--cluster',
        'reshard',
        `127.0.0.1:${to.port}`,
        '--cluster-from',
        await from.cli('CLUSTER', 'MYID'),
        '--cluster-to',
        await to.cli('CLUSTER', 'MYID'),
        '--cluster-slots',
        '500',
        '--cluster-yes',
      ]);
    }
    await sleep(1000);
    stop = true;
    await Promise.all(load_);

    // Quiesce: the writes the cluster did not confirm during the faults are repaired; then every instance
    // reads what the database holds, for every key.
    await until(
      async () => instances.every((cache) => cache.stats().l2?.pending === 0),
      'every unconfirmed write is repaired',
    );
    await sleep(500); // and the repairs' bus messages have reached the other instance
    let stale = 0;
    const where: string[] = [];
    const shared = createCache({ ttl: '1m', l1: false, l2: tiers[0] as RedisTier });
    for (const [n, cache] of [...instances, shared].entries()) {
      for (let id = 0; id < KEYS; id++) {
        const value = (await cache.getOrLoad(`menu:${id}`, load(id))) as { version: number };
        if (value.version !== db.get(id)) {
          stale++;
          if (where.length < 10) where.push(`${n}:${id}:${value.version}/${db.get(id)}`);
        }
      }
    }
    console.log(
      `# ${reads} reads, ${writes} writes, ${failed} failed, ${stale} stale after quiesce ${where.join(' ')}`,
    );
    console.log(`# ${JSON.stringify(instances.map((c) => [c.stats().bus, c.stats().l2, c.stats().freshness]))}`);
    assert.equal(failed, 0, `failed requests: ${firstErrors.map(String).join('; ')}`);
    assert.equal(stale, 0);
    await Promise.all(instances.map((cache) => cache.close()));
  });
});
