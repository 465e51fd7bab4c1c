/**
 * Invalidation from MariaDB's ROW binlog (`tiercache/mariadb`), against a MariaDB server of the test's own
 * (binlog on) and real Redis: raw SQL invalidates keys and tags in every instance, old and new rows; the
 * forced race by raw SQL gives 0 stale sets; a consumer killed with SIGKILL mid-stream loses nothing (the
 * next one resumes from the stored GTID position); one consumer per name, and a follower takes over.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import { type ChangeStream, createBinlogChangeStream } from '../../src/change-stream/mariadb.js';
import { type Cache, ConfigError, createCache, createRedisTier, type RedisTier } from '../../src/index.js';
import {
  assertFollowerClosesPromptly,
  assertNextTakesOverWhenItsCacheCloses,
  nextApplied,
} from '../helpers/change-streams.js';
import { eventually } from '../helpers/eventually.js';
import { MariadbServer, mariadbBinariesMissing } from '../helpers/mariadb-server.js';
import { killChild, RedisServer } from '../helpers/redis-server.js';
import { needs } from '../helpers/services.js';

const WORKER = new URL('../helpers/change-stream-worker.ts', import.meta.url).pathname;

describe('MariaDB binlog change stream', needs(mariadbBinariesMissing), () => {
  let mariadb: MariadbServer;
  let redis: RedisServer;
  let sql: mysql.Connection;
  const tiers: RedisTier[] = [];
  const caches: Cache[] = [];
  const streams: ChangeStream[] = [];

  before(async () => {
    [mariadb, redis] = await Promise.all([MariadbServer.start(), RedisServer.start()]);
    sql = await mysql.createConnection(mariadb.url);
    await sql.query('CREATE TABLE menus (id INT PRIMARY KEY, restaurant_id INT NOT NULL, name TEXT NOT NULL)');
    const rows = Array.from({ length: 1000 }, (_, i) => [i + 1, (i + 1) % 10, `menu ${i + 1}`]);
    await sql.query('INSERT INTO menus VALUES ?', [rows]);
  });
  after(async () => {
    await Promise.all(streams.map((stream) => stream.close()));
    await Promise.all(caches.map((cache) => cache.close()));
    await Promise.all(tiers.map((tier) => tier.close()));
    await sql.end();
    await Promise.all([mariadb.stop(), redis.stop()]);
  });

  function instance(): Cache {
    const l2 = createRedisTier({ client: redis.url });
    tiers.push(l2);
    const cache = createCache({ ttl: '1h', l2 });
    caches.push(cache);
    return cache;
  }
  function stream(cache: Cache, consumer: string): ChangeStream {
    const created = createBinlogChangeStream({
      cache,
      connection: mariadb.url,
      consumer,
      tables: {
        menus: { keys: (row) => [`menu:${row.id}`], tags: (row) => [`restaurant:${row.restaurant_id}`] },
      },
      retry: '100ms',
    });
    streams.push(created);
    return created;
  }
  const loadMenu = (cache: Cache, id: number) =>
    cache.getOrLoad(`menu:${id}`, async (context) => {
      const [rows] = await sql.query('SELECT * FROM menus WHERE id = ?', [id]);
      const row = (rows as { restaurant_id: number; name: string }[])[0];
      context.setTags([`restaurant:${row?.restaurant_id}`]);
      return row?.name;
    });

  it('raw SQL invalidates the keys and tags of the old and new rows, in every instance', async () => {
    const [a, b] = [instance(), instance()];
    const changes = stream(a, 'basic');
    await changes.streaming();
    assert.equal(await loadMenu(a, 1), 'menu 1');
    assert.equal(await loadMenu(b, 1), 'menu 1');
    await sql.query(`UPDATE menus SET name = 'soup' WHERE id = 1`);
    await eventually(async () => (await b.get('menu:1')) === undefined, 'the other instance dropped menu:1');
    assert.equal(await loadMenu(b, 1), 'soup');
    await Promise.all([loadMenu(a, 12), loadMenu(a, 22)]);
    await sql.query(`INSERT INTO menus VALUES (1002, 2, 'new dish')`);
    await eventually(
      async () => (await b.get('menu:22')) === undefined && (await a.get('menu:12')) === undefined,
      'the tag',
    );
    await Promise.all([loadMenu(a, 3), a.set('menu:2003', 'placeholder')]);
    await sql.query('UPDATE menus SET id = 2003 WHERE id = 3');
    await eventually(async () => !(await b.has('menu:3')) && !(await b.has('menu:2003')), 'old and new key');
    await Promise.all([loadMenu(a, 4), loadMenu(a, 5)]);
    await sql.beginTransaction();
    await sql.query('DELETE FROM menus WHERE id = 4');
    await sql.query(`UPDATE menus SET name = 'bread' WHERE id = 5`);
    await sql.commit();
    await eventually(async () => !(await b.has('menu:4')) && !(await b.has('menu:5')), 'a delete and an update');
    await eventually(() => changes.stats().transactions >= 4, 'the count caught up');
    assert.equal(changes.stats().active, true);
    assert.match(changes.stats().confirmedLsn ?? '', /^0-1-\d+$/, 'a GTID position');
  });

  it('the forced race by raw SQL: a load that read the old row before the UPDATE never stores it (0 stale sets)', async () => {
    const [a, b] = [instance(), instance()];
    const changes = stream(a, 'race');
    await changes.streaming();
    let stale = 0;
    for (let round = 0; round < 20; round++) {
      const id = 100 + round;
      let read!: () => void;
      const readDone = new Promise<void>((resolve) => {
        read = resolve;
      });
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const loading = b.getOrLoad(`menu:${id}`, async () => {
        const [rows] = await sql.query('SELECT name FROM menus WHERE id = ?', [id]);
        read();
        await held;
        return (rows as { name: string }[])[0]?.name;
      });
      await readDone;
      const applied = nextApplied(changes);
      await sql.query('UPDATE menus SET name = ? WHERE id = ?', [`new ${round}`, id]);
      await applied;
      release();
      assert.equal(await loading, `menu ${id}`);
      for (const cache of [a, b]) {
        const cached = await cache.get(`menu:${id}`);
        if (cached !== undefined && cached !== `new ${round}`) stale++;
      }
    }
    assert.equal(stale, 0, 'stale sets');
  });

  it('a consumer killed with SIGKILL mid-stream loses nothing: the next resumes from the stored position', async () => {
    // The earlier tests' streams would invalidate these keys too, and hide a transaction lost here.
    await Promise.all(streams.splice(0).map((earlier) => earlier.close()));
    const check = instance();
    const ids = Array.from({ length: 300 }, (_, i) => 200 + i);
    await Promise.all(ids.map((id) => check.set(`menu:${id}`, 'cached before the update')));
    const child = await consumer('crash');
    const follower = stream(instance(), 'crash');
    assert.equal(follower.stats().active, false);
    let applied = 0;
    child.on('message', (message: { applied?: number }) => {
      applied = message.applied ?? applied;
    });
    const writer = (async () => {
      for (const id of ids) {
        // Paced (~3 ms a write), so the kill lands mid-stream even on a loaded machine.
        await new Promise((resolve) => setTimeout(resolve, 2));
        await sql.query(`UPDATE menus SET name = 'changed' WHERE id = ?`, [id]);
      }
    })();
    await eventually(() => applied >= 30, 'the consumer applied some', 10_000);
    await killChild(child);
    await writer;
    await follower.streaming();
    await eventually(
      async () => (await Promise.all(ids.map((id) => check.has(`menu:${id}`)))).every((has) => !has),
      'every changed key invalidated',
      15_000,
    );
    assert.ok(applied < ids.length, `the consumer was killed mid-stream (after ${applied} of ${ids.length})`);
  });

  async function consumer(name: string): Promise<ChildProcess> {
    const child = fork(WORKER, ['mariadb', mariadb.url, redis.url], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, TIERCACHE_SLOT: name },
    });
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the consumer exited with ${code}`)));
      child.on('message', (message: { streaming?: boolean }) => {
        if (message.streaming) resolve();
      });
    });
    return child;
  }

  it('one consumer per name; when it closes, a follower takes over', async () => {
    const [leader, follower] = [stream(instance(), 'election'), stream(instance(), 'election')];
    await Promise.race([leader.streaming(), follower.streaming()]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal([leader, follower].filter((s) => s.stats().active).length, 1, 'exactly one consumes');
    const [active, waiting] = leader.stats().active ? [leader, follower] : [follower, leader];
    await active.close();
    await waiting.streaming();
    assert.equal(waiting.stats().active, true);
    await assertFollowerClosesPromptly(stream(instance(), 'election'));
  });

  it('a stream closed at any moment, leading or waiting, closes and leaves no connection open', async () => {
    const connections = async () => {
      const [rows] = await sql.query(
        "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE COMMAND <> 'Daemon'",
      );
      return Number((rows as { n: number }[])[0]?.n);
    };
    const before = await connections();
    // Ten leaders (a name each) and ten followers of one name, each closed 0–63 ms after it starts: while
    // connecting, taking the lock, starting the binlog dump, or waiting to retry.
    const leader = stream(instance(), 'closing');
    await leader.streaming();
    const closing = Array.from({ length: 20 }, (_, i) =>
      createBinlogChangeStream({
        cache: instance(),
        connection: mariadb.url,
        consumer: i < 10 ? `closing_${i}` : 'closing',
        tables: { menus: { keys: (row) => [`menu:${row.id}`] } },
        retry: '20ms',
      }),
    );
    await Promise.all(
      closing.map(async (changes, i) => {
        await new Promise((resolve) => setTimeout(resolve, (i % 10) * 7));
        await Promise.race([
          changes.close(),
          new Promise((_, reject) => setTimeout(() => reject(new Error(`stream ${i} did not close`)), 5_000)),
        ]);
      }),
    );
    await leader.close();
    // The server notices a closed connection a moment later; one left open stays.
    await eventually(async () => (await connections()) <= before, 'no connection of a closed stream open', 3_000).catch(
      async (error: Error) => assert.fail(`${error.message}: ${await connections()} connections, ${before} before`),
    );
  });

  it('a stream whose cache closes closes itself and lets the lock go: the next consumer applies what it could not', async () => {
    await assertNextTakesOverWhenItsCacheCloses({
      instance,
      stream: (cache) => stream(cache, 'orphan'),
      key: 'menu:800',
      update: () => sql.query(`UPDATE menus SET name = 'orphaned' WHERE id = 800`),
      released: async () => {
        const [rows] = await sql.query("SELECT IS_FREE_LOCK('tiercache_binlog:orphan') AS free");
        return (rows as { free: number }[])[0]?.free === 1;
      },
    });
  });

  it('refuses bad options with a ConfigError naming them', () => {
    const cache = instance();
    const base = { cache, connection: mariadb.url, tables: { menus: {} } };
    assert.throws(() => createBinlogChangeStream({ ...base, consumer: 'bad name' }), ConfigError);
    assert.throws(() => createBinlogChangeStream({ ...base, tables: {} }), /tables/);
    assert.throws(() => createBinlogChangeStream({ ...base, tables: { 'menus; drop': {} } }), /tables/);
    assert.throws(() => createBinlogChangeStream({ ...base, connection: 'localhost:3306' }), /connection/);
    assert.throws(() => createBinlogChangeStream({ ...base, connection: 'mysql://root@127.0.0.1/' }), /database/);
  });
});
