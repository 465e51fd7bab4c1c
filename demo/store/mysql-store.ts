/** The demo's menus in MariaDB or MySQL (mysql2 pool). */
import mysql from 'mysql2/promise';
import type { Menu } from './menu.js';
import { checkTableName } from './menu.js';
import { fromRow, type MenuRow, type MenuStore, toColumns } from './menu-store.js';

/** A menu table in MariaDB or MySQL. */
export class MysqlStore implements MenuStore {
  readonly description: string;
  readonly #pool: mysql.Pool;
  readonly #table: string;
  #created: Promise<unknown> | undefined;

  constructor(url: string, table = 'menus') {
    this.#table = checkTableName(table);
    this.#pool = mysql.createPool({ uri: url.replace(/^mariadb:/, 'mysql:'), connectionLimit: 10, charset: 'utf8mb4' });
    const { host, pathname } = new URL(url);
    this.description = `MariaDB/MySQL ${host}${pathname}`;
  }

  #ready(): Promise<unknown> {
    this.#created ??= this.#pool.query(`CREATE TABLE IF NOT EXISTS ${this.#table} (
      id INT PRIMARY KEY, restaurant VARCHAR(200) NOT NULL, cuisine VARCHAR(50) NOT NULL, items TEXT NOT NULL,
      updated_at VARCHAR(32) NOT NULL) DEFAULT CHARSET = utf8mb4`);
    return this.#created;
  }

  async count(): Promise<number> {
    await this.#ready();
    const [rows] = await this.#pool.query<mysql.RowDataPacket[]>(`SELECT count(*) AS n FROM ${this.#table}`);
    return Number(rows[0]?.n);
  }

  async reset(): Promise<void> {
    await this.#ready();
    await this.#pool.query(`TRUNCATE TABLE ${this.#table}`);
  }

  async insert(menus: readonly Menu[]): Promise<void> {
    await this.#ready();
    await this.#pool.query(`INSERT INTO ${this.#table} VALUES ?`, [menus.map(toColumns)]);
  }

  async get(id: number): Promise<Menu | null> {
    await this.#ready();
    const [rows] = await this.#pool.execute<mysql.RowDataPacket[]>(
      `SELECT id, restaurant, cuisine, items, updated_at FROM ${this.#table} WHERE id = ?`,
      [id],
    );
    return rows[0] === undefined ? null : fromRow(rows[0] as MenuRow);
  }

  async put(menu: Menu): Promise<boolean> {
    await this.#ready();
    const [id, restaurant, cuisine, items, updatedAt] = toColumns(menu);
    // mysql2 connects with FOUND_ROWS, so affectedRows counts matched rows even when nothing changed.
    const [result] = await this.#pool.execute<mysql.ResultSetHeader>(
      `UPDATE ${this.#table} SET restaurant = ?, cuisine = ?, items = ?, updated_at = ? WHERE id = ?`,
      [restaurant, cuisine, items, updatedAt, id],
    );
    return result.affectedRows > 0;
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
