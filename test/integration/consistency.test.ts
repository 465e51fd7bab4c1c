/**
 * Consistency under concurrent writers and readers: 3 processes share Redis and PostgreSQL; for 30 s
 * (`CONSISTENCY_SECONDS`) their callers read 100 keys through `getOrLoad` and write them through
 * `writeThrough`. After they stop, every key any cache holds must equal its database row, and the
 * longest time a reader saw a value after a newer one was committed (the staleness window) is printed.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { ConsistencySettings, ReadLog, WriteLog } from '../helpers/consistency-worker.js';
import { RedisServer } from '../helpers/redis-server.js';

import { needs, POSTGRES, postgresMissing } from '../helpers/services.js';

const TABLE = `tiercache_consistency_${process.pid}`;
const KEYS = 100;
const PROCESSES = 3;
const SECONDS = Number(process.env.CONSISTENCY_SECONDS ?? 30);
const WORKER = fileURLToPath(new URL('../helpers/consistency-worker.ts', import.meta.url));

/** Resolves with the next message a child sends. */
const nextMessage = <T>(child: ChildProcess) =>
  new Promise<T>((resolve, reject) => {
    child.once('message', (message) => resolve(message as T));
    child.once('exit', (code) => reject(new Error(`worker exited (${code})`)));
  });

describe('consistency: 3 processes writing through and reading against PostgreSQL', {
  ...needs(postgresMissing),
  timeout: (SECONDS + 60) * 1000,
}, () => {
  let server: RedisServer;
  let database: pg.Pool;

  before(async () => {
    server = await RedisServer.start();
    database = new pg.Pool({ connectionString: POSTGRES, max: 2 });
    await database.query(`DROP TABLE IF EXISTS ${TABLE}; DROP SEQUENCE IF EXISTS ${TABLE}_seq`);
    await database.query(`CREATE SEQUENCE ${TABLE}_seq`);
    await database.query(`CREATE TABLE ${TABLE} (id INTEGER PRIMARY KEY, token TEXT NOT NULL, seq BIGINT NOT NULL)`);
    await database.query(`INSERT INTO ${TABLE} SELECT g, 'initial', 0 FROM generate_series(0, $1) AS g`, [KEYS - 1]);
  });
  after(async () => {
    await database?.query(`DROP TABLE IF EXISTS ${TABLE}; DROP SEQUENCE IF EXISTS ${TABLE}_seq`);
    await database?.end();
    await server?.stop();
  });

  it('ends with every cached value equal to its row, and prints the largest staleness window', async () => {
    const workers = Array.from({ length: PROCESSES }, (_, worker) => {
      const settings: ConsistencySettings = {
        redis: server.url,
        postgres: POSTGRES,
        table: TABLE,
        keys: KEYS,
        seconds: SECONDS,
        worker,
        callers: 8,
        writeShare: 0.1,
      };
      return fork(WORKER, [JSON.stringify(settings)], {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
    });
    const logs = await Promise.all(workers.map((w) => nextMessage<{ reads: ReadLog[]; writes: WriteLog[] }>(w)));
    // Quiesced: give the last invalidations time to cross the bus, then ask each cache what it holds.
    await sleep(500);
    const finals = await Promise.all(
      workers.map((w) => {
        const reply = nextMessage<{ held: (string | null)[]; stats: Record<string, number> }>(w);
        w.send('report');
        return reply;
      }),
    );
    await Promise.all(
      workers.map((w) => new Promise((resolve) => (w.exitCode !== null ? resolve(null) : w.once('exit', resolve)))),
    );

    const { rows } = await database.query<{ id: number; token: string }>(`SELECT id, token FROM ${TABLE}`);
    const truth = new Map(rows.map((r) => [r.id, r.token]));
    const mismatches: string[] = [];
    finals.forEach((final, worker) => {
      final.held.forEach((token, key) => {
        if (token !== null && token !== truth.get(key))
          mismatches.push(`process ${worker}, key ${key}: ${token} ≠ ${truth.get(key)}`);
      });
    });

    // Staleness: a read that returned token x after the write replacing x had committed.
    const writes = logs.flatMap((l) => l.writes);
    const byKey = new Map<number, WriteLog[]>();
    for (const write of writes) byKey.set(write[0], [...(byKey.get(write[0]) ?? []), write]);
    for (const list of byKey.values()) list.sort((a, b) => a[2] - b[2]);
    let reads = 0;
    let staleReads = 0;
    let worst = 0;
    for (const [key, token, startedAt] of logs.flatMap((l) => l.reads)) {
      reads++;
      const history = byKey.get(key) ?? [];
      const index = token === 'initial' ? -1 : history.findIndex((w) => w[1] === token);
      assert.ok(token === 'initial' || index >= 0, `key ${key} read ${token}, which no writer committed`);
      const replacedAt = history[index + 1]?.[3];
      if (replacedAt !== undefined && replacedAt < startedAt) {
        staleReads++;
        worst = Math.max(worst, startedAt - replacedAt);
      }
    }
    const conflicts = finals.reduce((n, f) => n + (f.stats.writeConflicts ?? 0), 0);
    const dropped = finals.reduce((n, f) => n + (f.stats.staleLoadsDropped ?? 0), 0);
    process.stdout.write(
      `consistency: ${PROCESSES} processes, ${SECONDS} s, ${reads} reads, ${writes.length} writes; ` +
        `${staleReads} reads saw a value already replaced, largest staleness window ${worst} ms; ` +
        `${conflicts} write-through races invalidated, ${dropped} stale loads dropped\n`,
    );
    assert.ok(writes.length > 100 && reads > 1000, `too little traffic: ${reads} reads, ${writes.length} writes`);
    assert.deepEqual(mismatches, []);
  });
});
