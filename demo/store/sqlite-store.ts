/** The demo's default database: a SQLite file (better-sqlite3), created on first use. */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { Menu } from './menu.js';
import { checkTableName } from './menu.js';
import { fromRow, type MenuRow, type MenuStore, toColumns } from './menu-store.js';

/** A menu table in a SQLite file (or `:memory:`). */
export class SqliteStore implements MenuStore {
  readonly description: string;
  readonly #db: Database.Database;
  readonly #table: string;
  readonly #select: Database.Statement<[number], MenuRow>;

  constructor(path: string, table = 'menus') {
    this.#table = checkTableName(table);
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.#db = new Database(path);
    // WAL lets several demo processes read the file while one writes.
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('busy_timeout = 5000');
    this.#db.exec(`CREATE TABLE IF NOT EXISTS ${table} (
      id INTEGER PRIMARY KEY, restaurant TEXT NOT NULL, cuisine TEXT NOT NULL, items TEXT NOT NULL, updated_at TEXT NOT NULL)`);
    this.#select = this.#db.prepare(`SELECT id, restaurant, cuisine, items, updated_at FROM ${table} WHERE id = ?`);
    this.description = `SQLite ${path}`;
  }

  async count(): Promise<number> {
    return (this.#db.prepare(`SELECT count(*) AS n FROM ${this.#table}`).get() as { n: number }).n;
  }

  async reset(): Promise<void> {
    this.#db.exec(`DELETE FROM ${this.#table}`);
  }

  async insert(menus: readonly Menu[]): Promise<void> {
    const insert = this.#db.prepare(`INSERT INTO ${this.#table} VALUES (?, ?, ?, ?, ?)`);
    this.#db.transaction(() => {
      for (const menu of menus) insert.run(...toColumns(menu));
    })();
  }

  async get(id: number): Promise<Menu | null> {
    const row = this.#select.get(id);
    return row === undefined ? null : fromRow(row);
  }

  async put(menu: Menu): Promise<boolean> {
    const [id, restaurant, cuisine, items, updatedAt] = toColumns(menu);
    const { changes } = this.#db
      .prepare(`UPDATE ${this.#table} SET restaurant = ?, cuisine = ?, items = ?, updated_at = ? WHERE id = ?`)
      .run(restaurant, cuisine, items, updatedAt, id);
    return changes > 0;
  }

  async close(): Promise<void> {
    this.#db.close();
  }
}
