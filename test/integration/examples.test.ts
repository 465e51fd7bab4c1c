/** The README's users service (examples/users-service.ts) against real PostgreSQL and Redis. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { buildUsersService } from '../../examples/users-service.js';
import { RedisServer } from '../helpers/redis-server.js';

import { needs, POSTGRES, postgresMissing } from '../helpers/services.js';

const TABLE = `tiercache_users_${process.pid}`;

describe('examples/users-service.ts', needs(postgresMissing), () => {
  let redis: RedisServer;
  let db: pg.Pool;
  let service: Awaited<ReturnType<typeof buildUsersService>>;

  before(async () => {
    redis = await RedisServer.start();
    db = new pg.Pool({ connectionString: POSTGRES, max: 2 });
    service = await buildUsersService({ databaseUrl: POSTGRES, redisUrl: redis.url, table: TABLE });
    await db.query(`INSERT INTO ${TABLE} (name, email) VALUES ('Ada', 'ada@example.com')`);
  });
  after(async () => {
    await service?.close();
    await db?.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await db?.end();
    await redis?.stop();
  });

  it('reads through the cache, writes through to the database, keeps the Date', async () => {
    const first = await service.app.inject({ method: 'GET', url: '/users/1' });
    assert.equal(first.statusCode, 200);
    assert.equal(first.json().name, 'Ada');
    const stored = await redis.cli('--scan', '--pattern', 'tiercache:d:*user:1}');
    assert.ok(stored.length > 0, 'the row reached Redis');
    const put = await service.app.inject({
      method: 'PUT',
      url: '/users/1',
      payload: { name: 'Ada L.', email: 'ada@example.com' },
    });
    assert.equal(put.statusCode, 200);
    const { rows } = await db.query(`SELECT name FROM ${TABLE} WHERE id = 1`);
    assert.equal(rows[0].name, 'Ada L.');
    assert.equal((await service.app.inject({ method: 'GET', url: '/users/1' })).json().name, 'Ada L.');
    assert.equal((await service.app.inject({ method: 'GET', url: '/users/99' })).statusCode, 404);
    assert.equal((await service.app.inject({ method: 'GET', url: '/users/x' })).statusCode, 400);
  });
});
