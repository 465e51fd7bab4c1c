/**
 * Commit → invalidation latency of a change stream (`npm run bench -- change-stream [--db postgres|mariadb]
 * [--rate 1000] [--writes 3000] [--runs 3]`): a PostgreSQL (wal_level=logical) or MariaDB (ROW binlog)
 * of its own and a Redis of its own; one instance consumes the slot, the others listen on the bus. A writer commits single-row
 * UPDATEs at `rate` per second, each on a key every instance holds; the latency of a write is from the
 * moment its UPDATE was issued to the moment an observing instance received the key's invalidation (an
 * instance drops its L1 copy synchronously on receipt). Prints p50/p90/p99/max per run and their medians.
 */
import { parseArgs } from 'node:util';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { createBinlogChangeStream } from '../dist/change-stream/mariadb.js';
import { createPostgresChangeStream } from '../dist/change-stream/postgres.js';
import { createCache, createRedisTier } from '../dist/index.js';
import { MariadbServer } from '../test/helpers/mariadb-server.js';
import { PostgresServer } from '../test/helpers/postgres-server.js';
import { RedisServer } from '../test/helpers/redis-server.js';
import { median } from './lib/report.js';

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '1000' },
    writes: { type: 'string', default: '3000' },
    runs: { type: 'string', default: '3' },
    db: { type: 'string', default: 'postgres' },
  },
});
const rate = Number(values.rate);
const writes = Number(values.writes);
const runs = Number(values.runs);

const mariadb = values.db === 'mariadb';
const [database, redis] = await Promise.all([
  mariadb ? MariadbServer.start() : PostgresServer.start(),
  RedisServer.start(),
]);
/** Runs a statement on a pool of 8 connections (`?` placeholders for both databases). */
let query: (text: string, params?: unknown[]) => Promise<unknown>;
let endPool: () => Promise<void>;
if (mariadb) {
  const pool = mysql.createPool({ uri: database.url, connectionLimit: 8 });
  query = (text, params) => pool.query(text, params);
  endPool = () => pool.end();
} else {
  const pool = new pg.Pool({ connectionString: database.url, max: 8 });
  query = (text, params) => {
    let n = 0;
    return pool.query(
      text.replace(/\?/g, () => `$${++n}`),
      params,
    );
  };
  endPool = () => pool.end();
}
await query('CREATE TABLE menus (id int PRIMARY KEY, name text NOT NULL)');
for (let from = 1; from <= writes; from += 1000) {
  const rows = Array.from({ length: Math.min(1000, writes - from + 1) }, (_, i) => `(${from + i}, 'menu ${from + i}')`);
  await query(`INSERT INTO menus VALUES ${rows.join(',')}`);
}

const leaderTier = createRedisTier({ client: redis.url });
const leader = createCache({ ttl: '1h', l2: leaderTier });
const tables = { menus: { keys: (row: Record<string, unknown>) => [`menu:${row.id}`] } };
const stream = mariadb
  ? createBinlogChangeStream({ cache: leader, connection: database.url, tables })
  : createPostgresChangeStream({ cache: leader, connection: database.url, tables });
await stream.streaming();
const observerTier = createRedisTier({ client: redis.url });
const observer = createCache({ ttl: '1h', l2: observerTier });

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
const summaries: number[][] = [];
for (let run = 0; run < runs; run++) {
  await Promise.all(Array.from({ length: writes }, (_, i) => observer.set(`menu:${i + 1}`, `cached ${i + 1}`)));
  const issued = new Map<string, number>();
  const committed: number[] = [];
  const batches: number[] = [];
  const onApplied = ({ transactions }: { transactions: number }) => batches.push(transactions);
  stream.on('applied', onApplied);
  const latencies: number[] = [];
  let done!: () => void;
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  const unsubscribe = observerTier.onInvalidation((event) => {
    if (event === 'gap' || event.op !== 'delete') return;
    const at = issued.get(event.key);
    if (at === undefined) return;
    issued.delete(event.key);
    latencies.push(performance.now() - at);
    if (latencies.length === writes) done();
  });
  const started = performance.now();
  for (let i = 0; i < writes; i++) {
    // Paced on the clock, not on the previous write: a slow commit does not lower the rate.
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const key = `menu:${i + 1}`;
    issued.set(key, performance.now());
    void query('UPDATE menus SET name = ? WHERE id = ?', [`run ${run}`, i + 1]).then(() => {
      committed.push(performance.now() - (issued.get(key) ?? performance.now()));
    });
  }
  const achieved = (writes / (performance.now() - started)) * 1000;
  await Promise.race([all, new Promise((resolve) => setTimeout(resolve, 30_000))]);
  unsubscribe();
  stream.off('applied', onApplied);
  const c = committed.sort((a, b) => a - b);
  console.log(
    `  UPDATE issue → commit ack: p50 ${percentile(c, 0.5).toFixed(1)} ms, p99 ${percentile(c, 0.99).toFixed(1)} ms; batches ${batches.length}, mean ${(writes / batches.length).toFixed(1)} transactions`,
  );
  const sorted = latencies.sort((a, b) => a - b);
  const row = [percentile(sorted, 0.5), percentile(sorted, 0.9), percentile(sorted, 0.99), sorted.at(-1) ?? NaN];
  summaries.push(row);
  console.log(
    `run ${run + 1}: ${latencies.length}/${writes} invalidations at ${achieved.toFixed(0)} writes/s — ` +
      `p50 ${row[0]?.toFixed(1)} ms, p90 ${row[1]?.toFixed(1)} ms, p99 ${row[2]?.toFixed(1)} ms, max ${row[3]?.toFixed(1)} ms`,
  );
}
const medianOf = (column: number) => median(summaries.map((row) => row[column] as number));
console.log(
  `median of ${runs} runs: p50 ${medianOf(0).toFixed(1)} ms, p90 ${medianOf(1).toFixed(1)} ms, p99 ${medianOf(2).toFixed(1)} ms (goal p99 ≤ 50 ms)`,
);

await stream.close({ dropSlot: true });
await endPool();
await Promise.all([leader.close(), observer.close()]);
await Promise.all([leaderTier.close(), observerTier.close()]);
await Promise.all([database.stop(), redis.stop()]);
