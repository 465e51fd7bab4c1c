/** The demo's menus in PostgreSQL (node-postgres pool). */
import pg from 'pg';
import type { Menu } from './menu.js';
import { checkTableName } from './menu.js';
import { fromRow, type MenuRow, type MenuStore, toColumns } from './menu-store.js';

/** A menu table in PostgreSQL. */
export class PostgresStore implements MenuStore {
  readonly description: string;
  readonly #pool: pg.Pool;
  readonly #table: string;
  #created: Promise<unknown> | undefined;

  constructor(url: string, table = 'menus') {
    this.#table = checkTableName(table);
    this.#pool = new pg.Pool({ connectionString: url, max: 10 });
    const { host, port, pathname } = new URL(url);
    this.description = `PostgreSQL ${host || 'localhost'}${port ? '' : ':5432'}${pathname}`;
  }

  #ready(): Promise<unknown> {
    this.#created ??= this.#pool.query(`CREATE TABLE IF NOT EXISTS ${this.#table} (
      id INTEGER PRIMARY KEY, restaurant TEXT NOT NULL, cuisine TEXT NOT NULL, items TEXT NOT NULL, updated_at TEXT NOT NULL)`);
    return this.#created;
  }

  async count(): Promise<number> {
    await this.#ready();
    const { rows } = await this.#pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.#table}`);
    return Number(rows[0]?.n);
  }

  async reset(): Promise<void> {
    await this.#ready();
    await this.#pool.query(`TRUNCATE ${this.#table}`);
  }

  async insert(menus: readonly Menu[]): Promise<void> {
    await this.#ready();
    const values = menus.flatMap(toColumns);
    const rows = menus.map((_, i) => `($${i * 5 + 1}, $${i * 5 + 2}, $${i * 5 + 3}, $${i * 5 + 4}, $${i * 5 + 5})`);
    await this.#pool.query(`INSERT INTO ${this.#table} VALUES ${rows.join(', ')}`, values);
  }

  async get(id: number): Promise<Menu | null> {
    await this.#ready();
    const { rows } = await this.#pool.query<MenuRow>(
      `SELECT id, restaurant, cuisine, items, updated_at FROM ${this.#table} WHERE id = $1`,
      [id],
    );
    return rows[0] === undefined ? null : fromRow(rows[0]);
  }

  async put(menu: Menu): Promise<boolean> {
    await this.#ready();
    const [id, restaurant, cuisine, items, updatedAt] = toColumns(menu);
    const { rowCount } = await this.#pool.query(
      `UPDATE ${this.#table} SET restaurant = $2, cuisine = $3, items = $4, updated_at = $5 WHERE id = $1`,
      [id, restaurant, cuisine, items, updatedAt],
    );
    return rowCount !== null && rowCount > 0;
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
