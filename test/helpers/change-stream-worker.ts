/**
 * A change-stream consumer in a process of its own, so a test can kill it with SIGKILL mid-stream: a cache
 * over Redis whose change stream (PostgreSQL or MariaDB, argv[2]) deletes `menu:<id>` for every changed
 * row of `menus`. Reports `{ streaming: true }` once it consumes, and `{ applied }` after each batch.
 */

import { createBinlogChangeStream } from '../../src/change-stream/mariadb.js';
import { createPostgresChangeStream } from '../../src/change-stream/postgres.js';
import { createCache, createRedisTier } from '../../src/index.js';

const [kind, database, redis] = process.argv.slice(2) as ['postgres' | 'mariadb', string, string];
const send = (message: unknown) => (process.send as (message: unknown) => void)(message);
const l2 = createRedisTier({ client: redis });
const cache = createCache({ ttl: '1h', l2 });
const tables = { menus: { keys: (row: Record<string, unknown>) => [`menu:${row.id}`] } };
const name = process.env.TIERCACHE_SLOT ?? 'tiercache';
const stream =
  kind === 'postgres'
    ? createPostgresChangeStream({ cache, connection: database, tables, retry: '100ms', slot: name })
    : createBinlogChangeStream({ cache, connection: database, tables, retry: '100ms', consumer: name });
stream.on('applied', () => send({ applied: stream.stats().transactions }));
await stream.streaming();
send({ streaming: true });
