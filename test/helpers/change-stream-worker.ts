/**
 * A change-stream consumer in a process of its own, so a test can kill it with SIGKILL mid-stream: a cache
 * over Redis whose PostgreSQL change stream deletes `menu:<id>` for every changed row of `menus`. Reports
 * `{ streaming: true }` once it holds the slot, and `{ applied }` after each transaction.
 */

import { createPostgresChangeStream } from '../../src/change-stream/postgres.js';
import { createCache, createRedisTier } from '../../src/index.js';

const [postgres, redis] = process.argv.slice(2) as [string, string];
const send = (message: unknown) => (process.send as (message: unknown) => void)(message);
const l2 = createRedisTier({ client: redis });
const cache = createCache({ ttl: '1h', l2 });
const stream = createPostgresChangeStream({
  cache,
  connection: postgres,
  tables: { menus: { keys: (row) => [`menu:${row.id}`] } },
  retry: '100ms',
  slot: process.env.TIERCACHE_SLOT ?? 'tiercache',
});
stream.on('applied', () => send({ applied: stream.stats().transactions }));
await stream.streaming();
send({ streaming: true });
