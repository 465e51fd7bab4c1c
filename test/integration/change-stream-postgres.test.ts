/**
 * Invalidation from PostgreSQL's own change stream (`tiercache/postgres`), against a PostgreSQL server of
 * the test's own with `wal_level=logical` and real Redis: raw SQL (no application call) invalidates keys
 * and tags in every instance; an old row loaded before a raw UPDATE is never stored after it (the forced
 * race, 0 stale sets); a consumer killed with SIGKILL mid-stream loses nothing, because the slot resends
 * what it had not confirmed; one consumer streams per slot, and a follower takes over; a stream closed at
 * any moment leaves no connection behind.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { Registry } from 'prom-client';
import { type ChangeStream, createPostgresChangeStream } from '../../src/change-stream/postgres.js';
import {
  type Cache,
  ConfigError,
  createCache,
  createRedisTier,
  type RedisTier,
  registerPrometheus,
} from '../../src/index.js';
import {
  assertFollowerClosesPromptly,
  assertNextTakesOverWhenItsCacheCloses,
  nextApplied,
} from '../helpers/change-streams.js';
import { eventually } from '../helpers/eventually.js';
import { PostgresServer, postgresBinariesMissing } from '../helpers/postgres-server.js';
import { killChild, RedisServer } from '../helpers/redis-server.js';
import { needs } from '../helpers/services.js';

const WORKER = new URL('../helpers/change-stream-worker.ts', import.meta.url).pathname;

describe('PostgreSQL change stream', needs(postgresBinariesMissing), () => {
  let postgres: PostgresServer;
  let redis: RedisServer;
  let sql: pg.Client;
  const tiers: RedisTier[] = [];
  const caches: Cache[] = [];
  const streams: ChangeStream[] = [];

  before(async () => {
    [postgres, redis] = await Promise.all([PostgresServer.start(), RedisServer.start()]);
    sql = new pg.Client({ connectionString: postgres.url });
    await sql.connect();
    await sql.query('CREATE TABLE menus (id int PRIMARY KEY, restaurant_id int NOT NULL, name text NOT NULL)');
    await sql.query('ALTER TABLE menus REPLICA IDENTITY FULL');
    await sql.query(`INSERT INTO menus SELECT i, i % 10, 'menu ' || i FROM generate_series(1, 1000) i`);
  });
  after(async () => {
    await Promise.all(streams.map((stream) => stream.close()));
    await Promise.all(caches.map((cache) => cache.close()));
    await Promise.all(tiers.map((tier) => tier.close()));
    await sql.end();
    await Promise.all([postgres.stop(), redis.stop()]);
  });

  /** A cache instance of its own over the shared Redis (its own connections, as a process would have). */
  function instance(): Cache {
    const l2 = createRedisTier({ client: redis.url });
    tiers.push(l2);
    const cache = createCache({ ttl: '1h', l2 });
    caches.push(cache);
    return cache;
  }
  function stream(cache: Cache, slot: string): ChangeStream {
    const created = createPostgresChangeStream({
      cache,
      connection: postgres.url,
      slot,
      tables: {
        menus: { keys: (row) => [`menu:${row.id}`], tags: (row) => [`restaurant:${row.restaurant_id}`] },
      },
      retry: '100ms',
    });
    streams.push(created);
    return created;
  }
  const loadMenu = (cache: Cache, id: number) =>
    cache.getOrLoad(
      `menu:${id}`,
      async (context) => {
        const { rows } = await sql.query('SELECT * FROM menus WHERE id = $1', [id]);
        context.setTags([`restaurant:${rows[0]?.restaurant_id}`]);
        return rows[0]?.name as string;
      },
      {},
    );

  it('raw SQL invalidates the keys and tags of the old and new rows, in every instance', async () => {
    const [a, b] = [instance(), instance()];
    const changes = stream(a, 'basic');
    await changes.streaming();
    assert.equal(await loadMenu(a, 1), 'menu 1');
    assert.equal(await loadMenu(b, 1), 'menu 1', 'both instances hold it (b from Redis, in its L1)');
    await sql.query(`UPDATE menus SET name = 'soup' WHERE id = 1`);
    await eventually(async () => (await b.get('menu:1')) === undefined, 'the other instance dropped menu:1');
    assert.equal(await loadMenu(b, 1), 'soup');

    // A tag: restaurant 2's menus (12, 22) go when one of its rows changes.
    await Promise.all([loadMenu(a, 12), loadMenu(a, 22)]);
    await sql.query(`INSERT INTO menus VALUES (1002, 2, 'new dish')`);
    await eventually(
      async () => (await b.get('menu:22')) === undefined && (await a.get('menu:12')) === undefined,
      'the tag',
    );

    // The key column changes: both the old and the new key go.
    await Promise.all([loadMenu(a, 3), a.set('menu:2003', 'placeholder')]);
    await sql.query('UPDATE menus SET id = 2003 WHERE id = 3');
    await eventually(async () => !(await b.has('menu:3')) && !(await b.has('menu:2003')), 'old and new key');

    // A delete, and one transaction of several statements.
    await Promise.all([loadMenu(a, 4), loadMenu(a, 5)]);
    await sql.query('BEGIN');
    await sql.query('DELETE FROM menus WHERE id = 4');
    await sql.query(`UPDATE menus SET name = 'bread' WHERE id = 5`);
    await sql.query('COMMIT');
    await eventually(async () => !(await b.has('menu:4')) && !(await b.has('menu:5')), 'a delete and an update');
    await eventually(() => changes.stats().transactions >= 4, 'the count caught up'); // (counted once applied)
    const stats = changes.stats();
    assert.equal(stats.active, true);
    assert.ok(stats.transactions >= 4 && stats.keys >= 6, JSON.stringify(stats));
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
        const { rows } = await sql.query('SELECT name FROM menus WHERE id = $1', [id]);
        read();
        await held; // the old row is in hand; the UPDATE commits and is applied meanwhile
        return rows[0].name as string;
      });
      await readDone;
      const applied = nextApplied(changes);
      await sql.query(`UPDATE menus SET name = $2 WHERE id = $1`, [id, `new ${round}`]);
      await applied;
      release();
      assert.equal(await loading, `menu ${id}`, 'the caller who asked before the update gets what it read');
      for (const cache of [a, b]) {
        const cached = await cache.get(`menu:${id}`);
        if (cached !== undefined && cached !== `new ${round}`) stale++;
      }
    }
    assert.equal(stale, 0, 'stale sets');
  });

  it('a consumer killed with SIGKILL mid-stream loses nothing: a follower resumes from the last confirmation', async () => {
    // The earlier tests' streams would invalidate these keys too, and hide a transaction lost here.
    await Promise.all(streams.splice(0).map((earlier) => earlier.close()));
    const slot = 'crash';
    const check = instance();
    const ids = Array.from({ length: 300 }, (_, i) => 200 + i);
    await Promise.all(ids.map((id) => check.set(`menu:${id}`, 'cached before the update')));
    const child = await consumer(slot);
    const follower = createPostgresChangeStream({
      cache: instance(),
      connection: postgres.url,
      slot,
      tables: { menus: { keys: (row) => [`menu:${row.id}`] } },
      retry: '100ms',
    });
    streams.push(follower);
    assert.equal(follower.stats().active, false);
    // 300 transactions; the consumer dies after applying some of them.
    let applied = 0;
    child.on('message', (message: { applied?: number }) => {
      applied = message.applied ?? applied;
    });
    const writer = (async () => {
      for (const id of ids) {
        // Paced (~3 ms a write), so the kill lands mid-stream even on a loaded machine.
        await new Promise((resolve) => setTimeout(resolve, 2));
        await sql.query(`UPDATE menus SET name = 'changed' WHERE id = $1`, [id]);
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
    // Every key invalidated is the proof that no transaction was lost. The counts prove the follower
    // resumed from the last confirmation instead of replaying the slot: together at most every
    // transaction plus one (applied by both, if the consumer died between applying and confirming it).
    // Not "at least every transaction": the consumer reports its count over IPC after each batch, and
    // SIGKILL can cut off the report of a batch it had already confirmed (CI saw 30 + 269 of 300, with
    // every key invalidated).
    const resumed = follower.stats().transactions;
    assert.ok(resumed > 0, 'the follower applied what the consumer had not confirmed');
    assert.ok(applied + resumed <= ids.length + 1, `${applied} + ${resumed}`);
  });

  it("confirms exactly what it applied, as PostgreSQL's own subscriber does: idle, the slot is not one byte ahead", async () => {
    const exact = stream(instance(), 'exact');
    await exact.streaming();
    const applied = nextApplied(exact);
    await sql.query(`UPDATE menus SET name = 'exact' WHERE id = 700`);
    await applied;
    // A byte ahead, the server would skip a transaction whose COMMIT begins where its position stood.
    await eventually(
      async () => {
        const [row] = await postgres.query<{ exact: boolean }>(
          "SELECT confirmed_flush_lsn = pg_current_wal_lsn() AS exact FROM pg_replication_slots WHERE slot_name = 'exact'",
        );
        return row?.exact === true;
      },
      "the slot's confirmed position equal to the server's",
      5_000,
    );
    await exact.close({ dropSlot: true });
  });

  async function consumer(slot: string): Promise<ChildProcess> {
    const child = fork(WORKER, ['postgres', postgres.url, redis.url], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      env: { ...process.env, TIERCACHE_SLOT: slot },
    });
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the consumer exited with ${code}`)));
      child.on('message', (message: { streaming?: boolean }) => {
        if (message.streaming) resolve();
      });
    });
    return child;
  }

  it('one consumer streams per slot; when it closes, a follower takes over', async () => {
    const [leader, follower] = [stream(instance(), 'election'), stream(instance(), 'election')];
    await Promise.race([leader.streaming(), follower.streaming()]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal([leader, follower].filter((s) => s.stats().active).length, 1, 'exactly one streams');
    const [active, waiting] = leader.stats().active ? [leader, follower] : [follower, leader];
    await active.close();
    await waiting.streaming();
    assert.equal(waiting.stats().active, true);
    await assertFollowerClosesPromptly(stream(instance(), 'election'));
    await waiting.close({ dropSlot: true });
    const slots = await postgres.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = 'election'");
    assert.equal(slots.length, 0, 'dropped');
  });

  it('a stream closed at any moment of its retries leaves no connection open', async () => {
    const leader = stream(instance(), 'closing');
    await leader.streaming();
    // Followers closed 0–133 ms after they start: while preparing the slot, connecting, being refused
    // the slot, or waiting to retry. Each connects under an application name of its own.
    const followers = Array.from({ length: 20 }, (_, i) =>
      createPostgresChangeStream({
        cache: instance(),
        connection: `${postgres.url}?application_name=closing-${i}`,
        slot: 'closing',
        tables: { menus: { keys: (row) => [`menu:${row.id}`] } },
        retry: '20ms',
      }),
    );
    await Promise.all(
      followers.map(async (follower, i) => {
        await new Promise((resolve) => setTimeout(resolve, i * 7));
        await follower.close();
      }),
    );
    await leader.close({ dropSlot: true });
    const open = async () =>
      postgres.query<{ name: string }>(
        "SELECT application_name AS name FROM pg_stat_activity WHERE application_name LIKE 'closing-%'",
      );
    // The server notices a closed connection a moment later; one left open stays.
    await eventually(async () => (await open()).length === 0, 'no connection of a closed stream is open', 3_000).catch(
      async (error) => assert.fail(`${error.message}: ${JSON.stringify(await open())}`),
    );
  });

  it('a stream whose cache closes closes itself and lets the slot go: the next consumer applies what it could not', async () => {
    const next = await assertNextTakesOverWhenItsCacheCloses({
      instance,
      stream: (cache) => stream(cache, 'orphan'),
      key: 'menu:800',
      update: () => sql.query(`UPDATE menus SET name = 'orphaned' WHERE id = 800`),
      released: async () =>
        (
          await postgres.query<{ active: boolean }>(
            "SELECT active FROM pg_replication_slots WHERE slot_name = 'orphan'",
          )
        )[0]?.active === false,
    });
    await next.close({ dropSlot: true });
  });

  it('reports a slot that fell behind (lag in bytes, a warning, Prometheus), and catches up', async () => {
    const tables = { menus: { keys: (row: Record<string, unknown>) => [`menu:${row.id}`] } };
    const first = createPostgresChangeStream({ cache: instance(), connection: postgres.url, slot: 'lag', tables });
    await first.streaming();
    await first.close(); // the slot stays, and nobody consumes it while the rows change
    await sql.query(`UPDATE menus SET name = name || '.' WHERE id BETWEEN 500 AND 999`);
    const warnings: Error[] = [];
    const second = createPostgresChangeStream({
      cache: instance(),
      connection: postgres.url,
      slot: 'lag',
      tables,
      lagWarning: 10_000,
      lagInterval: '100ms',
    });
    streams.push(second);
    second.on('error', (error) => warnings.push(error));
    await eventually(() => warnings.length > 0, 'a lag warning');
    assert.match(warnings[0]?.message ?? '', /replication slot lag keeps \d+ bytes of WAL/);
    const registry = new Registry();
    registerPrometheus(instance(), { registry, changeStreams: [second] });
    await eventually(() => second.stats().transactions === 1, 'the backlog applied (one transaction)', 10_000);
    await eventually(async () => (second.stats().lagBytes ?? Infinity) < 10_000, 'the lag back under 10 kB', 10_000);
    const text = await registry.metrics();
    assert.match(text, /tiercache_change_stream_lag_bytes\{slot="lag"\} \d+/);
    assert.match(text, /tiercache_change_stream_active\{slot="lag"\} 1/);
    assert.match(text, /tiercache_change_stream_transactions_total\{slot="lag"\} 1/);
    await second.close({ dropSlot: true });
  });

  it('refuses bad options with a ConfigError naming them', () => {
    const cache = instance();
    const base = { cache, connection: postgres.url, tables: { menus: {} } };
    assert.throws(() => createPostgresChangeStream({ ...base, slot: 'Bad Slot' }), ConfigError);
    assert.throws(() => createPostgresChangeStream({ ...base, tables: {} }), /tables/);
    assert.throws(() => createPostgresChangeStream({ ...base, tables: { 'menus; drop': {} } }), /tables/);
    assert.throws(() => createPostgresChangeStream({ ...base, retry: 'soon' }), /retry/);
  });
});
