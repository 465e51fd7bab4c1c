/**
 * Hot-key replication on a real 3-master Redis Cluster, with 4 application processes reading one key
 * with no L1 (every read goes to Redis). Each master's share of the key's reads is measured from the
 * servers' own counters (`INFO commandstats`), without and with replication.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { escapeKey } from '../../src/redis/key-layout.js';
import { Instance } from '../helpers/instances.js';
import { RedisCluster } from '../helpers/redis-server.js';

const PROCESSES = 4;

/** GET calls each master has served since its stats were reset. */
async function getsPerMaster(cluster: RedisCluster): Promise<number[]> {
  return Promise.all(
    cluster.servers.map(async (server) => {
      const info = await server.cli('INFO', 'commandstats');
      return Number(/cmdstat_get:calls=(\d+)/.exec(info)?.[1] ?? 0);
    }),
  );
}

/** Every Redis key of a hot key's copies, with what each holds. */
async function copiesOf(cluster: RedisCluster, key: string): Promise<Map<string, string>> {
  const copies = new Map<string, string>();
  for (const server of cluster.servers) {
    const keys = (await server.cli('--scan', '--pattern', `tiercache:d:{${escapeKey(key)}%r*`)).split('\n');
    for (const copy of keys.filter((k) => k !== '')) copies.set(copy, await server.cli('GET', copy));
  }
  return copies;
}

describe('hot-key replication across Redis Cluster masters', { timeout: 120_000 }, () => {
  let cluster: RedisCluster;
  let replicated: Instance[] = [];
  let plain: Instance[] = [];

  before(async () => {
    cluster = await RedisCluster.start();
    const start = (hotKeys?: false) =>
      Promise.all(
        Array.from({ length: PROCESSES }, () =>
          Instance.start({ urls: cluster.urls, l1: false, ...(hotKeys === false ? { hotKeys } : {}) }),
        ),
      );
    plain = await start(false);
    replicated = await start();
  });
  after(async () => {
    for (const instance of [...plain, ...replicated]) await instance.stop();
    await cluster?.stop();
  });

  /** Reads `key` from every instance for `ms`; returns each master's share of the GETs. */
  async function shares(instances: Instance[], key: string, ms: number): Promise<number[]> {
    for (const server of cluster.servers) await server.cli('CONFIG', 'RESETSTAT');
    const results = await Promise.all(
      instances.map((i) => i.send<{ reads: number; errors: number }>({ op: 'read', key, value: 'menu', ms })),
    );
    assert.equal(
      results.reduce((n, r) => n + r.errors, 0),
      0,
    );
    const gets = await getsPerMaster(cluster);
    const total = gets.reduce((a, b) => a + b, 0);
    return gets.map((n) => n / total);
  }

  it('without replication one master serves the hot key; with it each serves 20–45 %', async () => {
    const without = await shares(plain, 'celebrity:plain', 3000);
    process.stdout.write(`per-master share without replication: ${without.map((s) => s.toFixed(2)).join(' ')}\n`);
    assert.ok(Math.max(...without) > 0.95, `one master should serve nearly all: ${without}`);

    // Warm-up: the detectors see the key hot and the instances announce it; then measure.
    await shares(replicated, 'celebrity', 2500);
    const spread = await shares(replicated, 'celebrity', 3000);
    process.stdout.write(`per-master share with replication: ${spread.map((s) => s.toFixed(2)).join(' ')}\n`);
    for (const share of spread) assert.ok(share >= 0.2 && share <= 0.45, `shares ${spread}`);
  });

  it('after a write resolves no copy holds the old value; the writer reads the new one; the others converge', async () => {
    const [writer, ...others] = replicated as [Instance, ...Instance[]];
    await shares(replicated, 'celebrity', 1500); // hot, copies in place
    const before = await copiesOf(cluster, 'celebrity');
    assert.ok(before.size >= 1, 'the hot key has copies');
    const written = await writer.send<number>({ op: 'set', key: 'celebrity', value: 'new menu' });
    for (const [copy, held] of await copiesOf(cluster, 'celebrity')) {
      assert.ok(!held.includes('"menu"'), `${copy} still holds the old value: ${held}`);
    }
    assert.equal(await writer.send({ op: 'load', key: 'celebrity', value: 'never loaded' }), 'new menu');
    const seen = await Promise.all(
      others.map((o) => o.send<number>({ op: 'waitFor', key: 'celebrity', value: 'new menu' })),
    );
    process.stdout.write(`other instances read the new value ${Math.max(...seen) - written} ms after the write\n`);
  });

  it('keeps answering reads of the hot key when a master that holds a copy dies', async () => {
    await shares(replicated, 'celebrity', 1000);
    const owner = (await Promise.all(cluster.servers.map((s) => s.cli('EXISTS', `tiercache:d:{celebrity}`)))).indexOf(
      '1',
    );
    const victim = cluster.servers.find((_, i) => i !== owner);
    await victim?.kill();
    const results = await Promise.all(
      replicated.map((i) =>
        i.send<{ reads: number; errors: number }>({ op: 'read', key: 'celebrity', value: 'from db', ms: 2000 }),
      ),
    );
    const reads = results.reduce((n, r) => n + r.reads, 0);
    assert.equal(
      results.reduce((n, r) => n + r.errors, 0),
      0,
      'no read failed',
    );
    assert.ok(reads > 100, `only ${reads} reads`);
    await victim?.restart(); // back into the cluster (its node file kept), for a clean shutdown
    for (let i = 0; i < 100 && !(await victim?.cli('CLUSTER', 'INFO'))?.includes('cluster_state:ok'); i++)
      await sleep(100);
  });
});
