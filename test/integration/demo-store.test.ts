/**
 * The demo's data layer against real databases: the machine's PostgreSQL and MariaDB, and SQLite.
 * Each run uses its own table and drops it afterwards.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { seedMenus } from '../../demo/store/menu.js';
import { type MenuStore, seedStore } from '../../demo/store/menu-store.js';
import { openStore } from '../../demo/store/open-store.js';

import { MARIADB, mariadbMissing, needs, POSTGRES, postgresMissing } from '../helpers/services.js';

const TABLE = `tiercache_menus_${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'tiercache-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const engines: { name: string; url: string; missing: string | false; drop(): Promise<void> }[] = [
  { name: 'SQLite', url: join(dir, 'menus.db'), missing: false, drop: async () => {} },
  {
    name: 'PostgreSQL',
    url: POSTGRES,
    missing: postgresMissing,
    drop: async () => {
      const client = new pg.Client(POSTGRES);
      await client.connect();
      await client.query(`DROP TABLE IF EXISTS ${TABLE}`);
      await client.end();
    },
  },
  {
    name: 'MariaDB',
    url: MARIADB,
    missing: mariadbMissing,
    drop: async () => {
      const connection = await mysql.createConnection(MARIADB);
      await connection.query(`DROP TABLE IF EXISTS ${TABLE}`);
      await connection.end();
    },
  },
];

for (const engine of engines) {
  describe(`demo store on ${engine.name}`, needs(engine.missing), () => {
    let store: MenuStore;
    after(async () => {
      await store?.close();
      await engine.drop();
    });

    it('seeds, reads, updates and refuses unknown ids', async () => {
      store = openStore(engine.url, TABLE);
      const progress: number[] = [];
      await seedStore(store, 2500, (done) => progress.push(done));
      assert.deepEqual(progress, [1000, 2000, 2500]);
      assert.equal(await store.count(), 2500);

      // The same seed gives the same menus on every engine.
      const expected = [...seedMenus(1234, 1235)][0];
      assert.deepEqual(await store.get(1234), expected);
      assert.equal(await store.get(2501), null);

      const updated = {
        ...(expected as NonNullable<typeof expected>),
        restaurant: 'Chez “Ünïcode” ☕',
        updatedAt: new Date().toISOString(),
      };
      assert.equal(await store.put(updated), true);
      assert.deepEqual(await store.get(1234), updated);
      assert.equal(await store.put({ ...updated, id: 999_999 }), false);
      assert.equal(await store.get(999_999), null);
      assert.equal(await store.count(), 2500);

      // A second start with the same size reuses the table as it is (the update survives).
      const again: number[] = [];
      await seedStore(store, 2500, (done) => again.push(done));
      assert.deepEqual(again, [2500]);
      assert.equal((await store.get(1234))?.restaurant, 'Chez “Ünïcode” ☕');
    });
  });
}

describe('openStore', () => {
  it('refuses URLs it has no driver for, and table names that are not plain identifiers', () => {
    assert.throws(
      () => openStore('mongodb://127.0.0.1/test'),
      /only postgres:\/\/, mysql:\/\/, mariadb:\/\/ or a SQLite file path/,
    );
    assert.throws(() => openStore(join(dir, 'x.db'), 'menus; DROP TABLE menus'), /table name must be/);
  });
});
