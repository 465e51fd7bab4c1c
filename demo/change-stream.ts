/**
 * The demo's change stream (`--change-stream`): every instance runs one on the menu table, the database
 * elects the one that consumes (PostgreSQL's slot, MariaDB's lock), and a raw SQL edit — "another
 * application edits the database" — reaches every instance's cache without the demo's `PUT`.
 */
import type { Cache } from '../src/cache/api.js';
import { createBinlogChangeStream } from '../src/change-stream/mariadb.js';
import { type ChangeStream, createPostgresChangeStream } from '../src/change-stream/postgres.js';
import { openStore } from './store/open-store.js';

/** Why `--change-stream` cannot run on `database`, or `undefined` when it can. */
export function changeStreamUnsupported(database: string): string | undefined {
  return /^(postgres(ql)?|mysql|mariadb):\/\//.test(database)
    ? undefined
    : '--change-stream needs DATABASE_URL=postgres://… (wal_level=logical) or mysql://… (a ROW binlog), not SQLite';
}

/** A change stream invalidating `menu:<id>` in `cache` for every changed row of `table`. */
export function openChangeStream(database: string, table: string, cache: Cache): ChangeStream {
  const unsupported = changeStreamUnsupported(database);
  if (unsupported !== undefined) throw new Error(unsupported);
  const tables = { [table]: { keys: (row: Readonly<Record<string, unknown>>) => [`menu:${row.id}`] } };
  const name = `tiercache_demo_${table}`.toLowerCase();
  return /^postgres/.test(database)
    ? createPostgresChangeStream({ cache, connection: database, tables, slot: name, publication: name })
    : createBinlogChangeStream({ cache, connection: database, tables, consumer: name });
}

/**
 * What "another application" does to the menus: its own connection, plain UPDATEs, no cache in sight.
 * For the "edited outside" scenario.
 */
export function editOutside(database: string, table: string) {
  return async (ids: readonly number[], restaurant: string): Promise<void> => {
    const store = openStore(database, table);
    try {
      for (const id of ids) {
        const menu = await store.get(id);
        if (menu !== null) await store.put({ ...menu, restaurant, updatedAt: new Date().toISOString() });
      }
    } finally {
      await store.close();
    }
  };
}
