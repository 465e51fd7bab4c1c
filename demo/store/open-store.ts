/** Picks the store for a `DATABASE_URL`: `postgres://…`, `mysql://…` / `mariadb://…`, else a SQLite path. */
import type { MenuStore } from './menu-store.js';
import { MysqlStore } from './mysql-store.js';
import { PostgresStore } from './postgres-store.js';
import { SqliteStore } from './sqlite-store.js';

/** Opens the menu table at `url` (see the module comment); `table` defaults to `menus`. */
export function openStore(url: string, table?: string): MenuStore {
  if (/^postgres(ql)?:\/\//.test(url)) return new PostgresStore(url, table);
  if (/^(mysql|mariadb):\/\//.test(url)) return new MysqlStore(url, table);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new Error(
      `DATABASE_URL ${url.replace(/\/\/[^@/]*@/, '//…@')}: only postgres://, mysql://, mariadb:// or a SQLite file path`,
    );
  }
  return new SqliteStore(url.replace(/^sqlite:/, ''), table);
}
