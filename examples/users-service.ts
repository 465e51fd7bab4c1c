/**
 * A users service, as the README's walkthrough builds it: Fastify + PostgreSQL + Redis. Reads go through
 * `getOrLoad` (one query per key however many requests arrive at once), writes through `writeThrough`
 * (the database first, then every cache). A `timestamptz` column comes back from Redis as a `Date`.
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test REDIS_URL=redis://127.0.0.1:6379 \
 *     npx tsx examples/users-service.ts
 *
 * CI type-checks it and runs it against real PostgreSQL and Redis (`test/integration/examples.test.ts`).
 */
import Fastify, { type FastifyInstance } from 'fastify';
import pg from 'pg';
import { createCache, createRedisTier } from 'tiercache';

/** A row of the users table. */
export interface User {
  id: number;
  name: string;
  email: string;
  updated_at: Date;
}

/** Builds the service over a database and a Redis; `close()` releases both. */
export async function buildUsersService(options: {
  databaseUrl: string;
  redisUrl: string;
  table?: string;
}): Promise<{ app: FastifyInstance; close: () => Promise<void> }> {
  const table = options.table ?? 'users';
  const db = new pg.Pool({ connectionString: options.databaseUrl });
  await db.query(
    `CREATE TABLE IF NOT EXISTS ${table} (id serial PRIMARY KEY, name text NOT NULL, email text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now())`,
  );

  const l2 = createRedisTier({ client: options.redisUrl });
  await l2.ready(); // fails fast, naming the cause, if Redis is wrong
  const cache = createCache({ ttl: '10m', l2, grace: '1h' }).namespace('users');
  cache.on('error', (error) => console.warn(`cache: ${error.message}`));

  const app = Fastify();
  app.get<{ Params: { id: string } }>('/users/:id', async (request, reply) => {
    const id = Number(request.params.id);
    if (!Number.isSafeInteger(id) || id <= 0) return reply.code(400).send({ error: 'id must be a positive integer' });
    const user = await cache.getOrLoad(`user:${id}`, async () => {
      const { rows } = await db.query<User>(`SELECT * FROM ${table} WHERE id = $1`, [id]);
      return rows[0] ?? null; // a missing user is cached too (briefly: nullTtl)
    });
    return user === null ? reply.code(404).send({ error: `no user ${id}` }) : user;
  });
  app.put<{ Params: { id: string }; Body: { name: string; email: string } }>('/users/:id', async (request, reply) => {
    const id = Number(request.params.id);
    const { name, email } = request.body;
    const { rows } = await db.query<User>(`SELECT * FROM ${table} WHERE id = $1`, [id]);
    if (rows[0] === undefined) return reply.code(404).send({ error: `no user ${id}` });
    const user: User = { id, name, email, updated_at: new Date() };
    await cache.writeThrough(`user:${id}`, user, async (u) => {
      await db.query(`UPDATE ${table} SET name = $2, email = $3, updated_at = $4 WHERE id = $1`, [
        u.id,
        u.name,
        u.email,
        u.updated_at,
      ]);
    });
    return user;
  });

  return {
    app,
    close: async () => {
      await app.close();
      await cache.close();
      await l2.close();
      await db.end();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const service = await buildUsersService({
    databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
    redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  });
  await service.app.listen({ port: Number(process.env.PORT ?? 3000) });
  console.log(`users service on :${process.env.PORT ?? 3000}`);
}
