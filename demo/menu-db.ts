/**
 * The demo's database: restaurant menus in SQLite (better-sqlite3), seeded once and reused. Reads go
 * through `getMenu`, which counts itself, so the demo can show how few reads reach the database.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { seededRandom } from '../workload/random.js';

/** One restaurant's menu, as the API returns it. */
export interface Menu {
  readonly id: number;
  readonly restaurant: string;
  readonly cuisine: string;
  readonly items: readonly { readonly name: string; readonly price: number }[];
  readonly updatedAt: string;
}

const CUISINES = ['thai', 'italian', 'mexican', 'indian', 'japanese', 'ethiopian', 'greek', 'korean'];
const DISHES = ['soup', 'salad', 'curry', 'noodles', 'dumplings', 'tacos', 'pizza', 'stew', 'rice bowl', 'flatbread'];
const SEED_BATCH = 1000;

/** A menu database with a read counter. */
export class MenuDb {
  readonly #db: Database.Database;
  readonly #select: Database.Statement<
    [number],
    { id: number; restaurant: string; cuisine: string; items: string; updated_at: string }
  >;
  /** Reads served by the database since it was opened. */
  reads = 0;

  private constructor(db: Database.Database) {
    this.#db = db;
    this.#select = db.prepare('SELECT id, restaurant, cuisine, items, updated_at FROM menus WHERE id = ?');
  }

  /**
   * Opens (creating if needed) the database at `path` and makes sure it holds `restaurants` menus,
   * seeding it in batches and reporting progress as `onProgress(done, total)`.
   */
  static open(path: string, restaurants: number, onProgress: (done: number, total: number) => void = () => {}): MenuDb {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE IF NOT EXISTS menus (
      id INTEGER PRIMARY KEY,
      restaurant TEXT NOT NULL,
      cuisine TEXT NOT NULL,
      items TEXT NOT NULL,
      updated_at TEXT NOT NULL
    )`);
    const { count } = db.prepare('SELECT count(*) AS count FROM menus').get() as { count: number };
    if (count !== restaurants) seed(db, restaurants, onProgress);
    else onProgress(restaurants, restaurants);
    return new MenuDb(db);
  }

  /** The menu of a restaurant, or `null` when there is none. */
  getMenu(id: number): Menu | null {
    this.reads++;
    const row = this.#select.get(id);
    if (row === undefined) return null;
    return {
      id: row.id,
      restaurant: row.restaurant,
      cuisine: row.cuisine,
      items: JSON.parse(row.items) as Menu['items'],
      updatedAt: row.updated_at,
    };
  }

  close(): void {
    this.#db.close();
  }
}

function seed(db: Database.Database, restaurants: number, onProgress: (done: number, total: number) => void): void {
  db.exec('DELETE FROM menus');
  const insert = db.prepare('INSERT INTO menus (id, restaurant, cuisine, items, updated_at) VALUES (?, ?, ?, ?, ?)');
  const random = seededRandom(2024);
  const now = new Date().toISOString();
  const batch = db.transaction((from: number, to: number) => {
    for (let id = from; id < to; id++) {
      const items = Array.from({ length: 5 + Math.floor(random() * 10) }, (_, i) => ({
        name: `${DISHES[Math.floor(random() * DISHES.length)]} no. ${i + 1}`,
        price: Math.round((4 + random() * 26) * 100) / 100,
      }));
      insert.run(id, `Restaurant #${id}`, CUISINES[id % CUISINES.length], JSON.stringify(items), now);
    }
  });
  for (let from = 1; from <= restaurants; from += SEED_BATCH) {
    const to = Math.min(restaurants + 1, from + SEED_BATCH);
    batch(from, to);
    onProgress(to - 1, restaurants);
  }
}
