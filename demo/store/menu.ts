/**
 * The demo's data: a restaurant's menu, its schema (checked on every write that comes from outside),
 * and the seeded generator that fills a database with them.
 */
import { z } from 'zod';
import { seededRandom } from '../../workload/random.js';

/** What `PUT /menus/:id` accepts: everything but the id and the timestamp, which the service sets. */
export const MenuInput = z
  .object({
    restaurant: z.string().trim().min(1).max(200),
    cuisine: z.string().trim().min(1).max(50),
    items: z
      .array(
        z
          .object({
            name: z.string().trim().min(1).max(200),
            price: z.number().finite().min(0).max(100_000),
          })
          .strict(),
      )
      .min(1)
      .max(100),
  })
  .strict();

/** A menu as written by a client. */
export type MenuInput = z.infer<typeof MenuInput>;

/** One restaurant's menu, as the API returns it. */
export interface Menu extends MenuInput {
  readonly id: number;
  readonly updatedAt: string;
}

const CUISINES = ['thai', 'italian', 'mexican', 'indian', 'japanese', 'ethiopian', 'greek', 'korean'];
const DISHES = ['soup', 'salad', 'curry', 'noodles', 'dumplings', 'tacos', 'pizza', 'stew', 'rice bowl', 'flatbread'];

/**
 * The seeded menus `from … to − 1`, in order. The same seed gives the same menus on every database,
 * so a run against SQLite and one against PostgreSQL read the same data.
 */
export function* seedMenus(from: number, to: number, seed = 2024): Generator<Menu> {
  const updatedAt = new Date(0).toISOString();
  for (let id = from; id < to; id++) {
    // One source per id: batches can start anywhere and still produce the same menu.
    const random = seededRandom(seed * 1_000_003 + id);
    const items = Array.from({ length: 5 + Math.floor(random() * 10) }, (_, i) => ({
      name: `${DISHES[Math.floor(random() * DISHES.length)]} no. ${i + 1}`,
      price: Math.round((4 + random() * 26) * 100) / 100,
    }));
    yield { id, restaurant: `Restaurant #${id}`, cuisine: CUISINES[id % CUISINES.length] as string, items, updatedAt };
  }
}

/** A table name the stores accept: a plain SQL identifier, so it can be spliced into statements. */
export function checkTableName(table: string): string {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(table)) {
    throw new Error(`table name must be lower-case letters, digits and _ (at most 63), got ${JSON.stringify(table)}`);
  }
  return table;
}
