/**
 * The stale-set race (what Meta's leases solve), forced with barriers against real PostgreSQL and Redis:
 *
 *   reader misses → its loader reads the row → writer updates the row and writes through (or
 *   invalidates) → the reader's loader returns the old row and stores it
 *
 * Without versions the old row would sit in the cache for a whole TTL. With them the reader's store is a
 * compare-and-set against the version it read before loading, and is dropped. The reader here gets no
 * bus messages, so the versions alone must close the race (the bus would only narrow it).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  type Cache,
  createCache,
  createMemcachedTier,
  createRedisTier,
  type RedisTier,
  type SharedTier,
} from '../../src/index.js';
import { physicalKey } from '../../src/keys.js';
import { MemcachedServer } from '../helpers/memcached-server.js';
import { RedisServer } from '../helpers/redis-server.js';

import { memcachedMissing, needs, POSTGRES, postgresMissing } from '../helpers/services.js';

const TABLE = `tiercache_race_${process.pid}`;
const ROWS = Number(process.env.RACE_ROWS ?? 1000);
const CONTROL_ROWS = 50;

/** A view of a tier without some of its methods (a tier that lacks those features). */
function without(tier: RedisTier, ...hidden: (keyof SharedTier)[]): SharedTier {
  return new Proxy(tier, {
    get(target, property) {
      if ((hidden as (string | symbol)[]).includes(property)) return undefined;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as SharedTier;
}

/** A gate one side opens and the other awaits. */
function gate(): { open(): void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

describe('stale-set race against PostgreSQL', { timeout: 120_000, ...needs(postgresMissing) }, () => {
  let server: RedisServer;
  let database: pg.Pool;
  const tiers: RedisTier[] = [];

  const tier = () => {
    const created = createRedisTier({ client: server.url });
    tiers.push(created);
    return created;
  };
  const row = async (id: number): Promise<number> =>
    (await database.query<{ val: number }>(`SELECT val FROM ${TABLE} WHERE id = $1`, [id])).rows[0]?.val as number;

  before(async () => {
    server = await RedisServer.start();
    database = new pg.Pool({ connectionString: POSTGRES, max: 4 });
    await database.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await database.query(`CREATE TABLE ${TABLE} (id INTEGER PRIMARY KEY, val INTEGER NOT NULL)`);
    await database.query(`INSERT INTO ${TABLE} SELECT g, 0 FROM generate_series(1, $1) AS g`, [ROWS]);
  });
  after(async () => {
    for (const created of tiers) await created.close();
    await database?.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await database?.end();
    await server?.stop();
  });

  /**
   * Runs the interleaving once for row `id`: the writer changes it to `next` while the reader's load of
   * the old value is paused. @returns whether the shared tier ends up holding something else than the
   * database (a stale set), after checking the reader got the old value.
   */
  async function race(
    reader: Cache,
    writer: Cache,
    readerTier: SharedTier,
    id: number,
    invalidate: boolean,
    keyPrefix = 'row',
  ) {
    // A key of its own per run: the reader must miss, whatever earlier runs left cached.
    const key = `${keyPrefix}:${id}`;
    const before = await row(id);
    const loaded = gate();
    const written = gate();
    const read = reader.getOrLoad(key, async () => {
      const value = await row(id);
      loaded.open();
      await written.opened;
      return value;
    });
    await loaded.opened;
    const next = before + 1;
    const update = () => database.query(`UPDATE ${TABLE} SET val = $2 WHERE id = $1`, [id, next]);
    if (invalidate) {
      await update();
      await writer.delete(key);
    } else {
      await writer.writeThrough(key, next, update);
    }
    written.open();
    assert.equal(await read, before, 'the reader asked before the write: it gets the old row');
    const inDatabase = await row(id);
    assert.equal(inDatabase, next);
    const shared = (await readerTier.get(physicalKey('', key)))?.value;
    // Whatever the cache holds now must be the database's row; nothing at all is fine too.
    const stale = shared !== undefined && shared !== inDatabase;
    if (!stale) assert.equal(await reader.getOrLoad(key, () => row(id)), inDatabase);
    return stale;
  }

  it('1,000 forced interleavings (write-through and invalidate): 0 stale sets, the cache equals the database', async () => {
    const readerTier = without(tier(), 'onInvalidation');
    const reader = createCache({ ttl: '1h', l2: readerTier });
    const writer = createCache({ ttl: '1h', l2: tier() });
    let staleSets = 0;
    for (let id = 1; id <= ROWS; id++) {
      if (await race(reader, writer, readerTier, id, id % 2 === 0)) staleSets++;
    }
    assert.equal(staleSets, 0);
    assert.equal(reader.stats().freshness.staleLoadsDropped, ROWS, 'every paused load was dropped');
    await reader.close();
    await writer.close();
  });

  it('the same 1,000 interleavings over Memcached (CAS versions, tombstones): 0 stale sets', {
    skip: memcachedMissing,
  }, async () => {
    const memcached = await MemcachedServer.start();
    const make = () => createMemcachedTier({ servers: [memcached.address] });
    const [readerTier, writerTier] = [make(), make()];
    const reader = createCache({ ttl: '1h', l2: readerTier });
    const writer = createCache({ ttl: '1h', l2: writerTier });
    let staleSets = 0;
    try {
      for (let id = 1; id <= ROWS; id++) {
        if (await race(reader, writer, readerTier, id, id % 2 === 0, 'mc')) staleSets++;
      }
      assert.equal(staleSets, 0);
      assert.equal(reader.stats().freshness.staleLoadsDropped, ROWS, 'every paused load was dropped');
    } finally {
      await Promise.all([reader.close(), writer.close()]);
      await Promise.all([readerTier.close(), writerTier.close()]);
      await memcached.stop();
    }
  });

  it('control: without versions the same interleaving leaves the old row cached every time', async () => {
    const unversioned = ['onInvalidation', 'getVersioned', 'version', 'setIfVersion', 'writeIfVersion'] as const;
    const readerTier = without(tier(), ...unversioned);
    const reader = createCache({ ttl: '1h', l2: readerTier });
    const writer = createCache({ ttl: '1h', l2: without(tier(), ...unversioned) });
    let staleSets = 0;
    // Rows the first test left at 1 or 2; each run moves them on by one.
    for (let id = 1; id <= CONTROL_ROWS; id++) {
      if (await race(reader, writer, readerTier, id, false, 'control')) staleSets++;
    }
    assert.equal(staleSets, CONTROL_ROWS);
    await reader.close();
    await writer.close();
  });
});
