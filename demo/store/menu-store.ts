/**
 * What the demo needs from a database, whichever one it is: count, reset and bulk-insert for seeding,
 * then read and update one menu. Each engine's file (`sqlite-store.ts`, `postgres-store.ts`,
 * `mysql-store.ts`) implements it; `openStore` picks one from a URL; `seedStore` fills any of them.
 */
import type { Menu } from './menu.js';
import { seedMenus } from './menu.js';

/** A menu table in some database. */
export interface MenuStore {
  /** Which engine and where, for humans: `SQLite .data/menus.db`, `PostgreSQL 127.0.0.1:5432/test`. */
  readonly description: string;
  /** Rows in the table (creating it if needed). */
  count(): Promise<number>;
  /** Empties the table. */
  reset(): Promise<void>;
  /** Inserts menus (ids not yet present). */
  insert(menus: readonly Menu[]): Promise<void>;
  /** The menu with this id, or `null`. */
  get(id: number): Promise<Menu | null>;
  /** Replaces the menu with `menu.id`; `false` (and nothing written) when there is no such menu. */
  put(menu: Menu): Promise<boolean>;
  close(): Promise<void>;
}

const SEED_BATCH = 1000;

/**
 * Makes sure the store holds exactly menus `1 … total`: reused as is when the count matches (the
 * next start is instant), else emptied and seeded in batches, reporting `onProgress(done, total)`.
 */
export async function seedStore(
  store: MenuStore,
  total: number,
  onProgress: (done: number, total: number) => void = () => {},
): Promise<void> {
  if ((await store.count()) === total) {
    onProgress(total, total);
    return;
  }
  await store.reset();
  for (let from = 1; from <= total; from += SEED_BATCH) {
    const to = Math.min(total + 1, from + SEED_BATCH);
    await store.insert([...seedMenus(from, to)]);
    onProgress(to - 1, total);
  }
}

/** A row as the SQL stores keep it: the items as JSON text. */
export interface MenuRow {
  id: number;
  restaurant: string;
  cuisine: string;
  items: string;
  updated_at: string;
}

/** A row back into a menu. */
export function fromRow(row: MenuRow): Menu {
  return {
    id: Number(row.id),
    restaurant: row.restaurant,
    cuisine: row.cuisine,
    items: JSON.parse(row.items) as Menu['items'],
    updatedAt: row.updated_at,
  };
}

/** A menu into the column values `[id, restaurant, cuisine, items, updated_at]`. */
export function toColumns(menu: Menu): [number, string, string, string, string] {
  return [menu.id, menu.restaurant, menu.cuisine, JSON.stringify(menu.items), menu.updatedAt];
}
