/**
 * One application process of the consistency check: for `seconds`, several callers read keys through
 * `getOrLoad` and write them through `writeThrough` against PostgreSQL, sharing Redis with the other
 * processes; it logs what it read and wrote. Then, told that everyone has stopped, it reports what its
 * cache holds for every key.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import pg from 'pg';
import { createCache, createRedisTier } from '../../src/index.js';
import { seededRandom } from '../../workload/random.js';

/** What the parent passes (as argv[2], JSON). */
export interface ConsistencySettings {
  readonly redis: string;
  readonly postgres: string;
  readonly table: string;
  readonly keys: number;
  readonly seconds: number;
  readonly worker: number;
  readonly callers: number;
  /** Share of operations that are writes. */
  readonly writeShare: number;
}

/** A read: key, the token read, when the read started (ms, wall clock). */
export type ReadLog = [key: number, token: string, startedAt: number];
/** A write that reached the database: key, token, its commit order, when the UPDATE returned. */
export type WriteLog = [key: number, token: string, seq: number, committedAt: number];

const settings = JSON.parse(process.argv[2] as string) as ConsistencySettings;
const database = new pg.Pool({ connectionString: settings.postgres, max: settings.callers });
const l2 = createRedisTier({ client: settings.redis });
const cache = createCache({ ttl: '1h', l2 });
const random = seededRandom(settings.worker * 7919 + 1);
const reads: ReadLog[] = [];
const writes: WriteLog[] = [];
const load = async (key: number): Promise<string> =>
  (await database.query<{ token: string }>(`SELECT token FROM ${settings.table} WHERE id = $1`, [key])).rows[0]
    ?.token as string;

let written = 0;
async function caller(deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const key = Math.floor(random() * settings.keys);
    if (random() < settings.writeShare) {
      const token = `${settings.worker}:${written++}`;
      await cache.writeThrough(`k:${key}`, token, async () => {
        const { rows } = await database.query<{ seq: string }>(
          `UPDATE ${settings.table} SET token = $2, seq = nextval('${settings.table}_seq') WHERE id = $1 RETURNING seq`,
          [key, token],
        );
        writes.push([key, token, Number(rows[0]?.seq), Date.now()]);
      });
    } else {
      const startedAt = Date.now();
      reads.push([key, await cache.getOrLoad(`k:${key}`, () => load(key)), startedAt]);
    }
    await yieldToLoop();
  }
}

process.once('message', async () => {
  // Phase 2: everyone has stopped writing. What does this instance's cache hold for each key?
  const held: (string | null)[] = [];
  for (let key = 0; key < settings.keys; key++) held.push((await cache.get<string>(`k:${key}`)) ?? null);
  process.send?.({ held, stats: cache.stats().freshness }, () => {
    void cache
      .close()
      .then(() => l2.close())
      .then(() => database.end())
      .then(() => process.exit(0));
  });
});

const deadline = Date.now() + settings.seconds * 1000;
await Promise.all(Array.from({ length: settings.callers }, () => caller(deadline)));
process.send?.({ reads, writes });
