/**
 * What a new user meets in their first hour, against real servers: a PostgreSQL row with dates through
 * Redis, and every misconfiguration named — an empty or malformed URL, an ioredis client, nothing
 * listening, an unknown host, a wrong password, TLS against a plain server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Cluster } from 'ioredis';
import pg from 'pg';
import {
  ConfigError,
  createCache,
  createRedisTier,
  InvalidValueError,
  type TierCacheError,
  TierUnavailableError,
} from '../../src/index.js';
import { eventually } from '../helpers/eventually.js';
import { freePort, RedisServer } from '../helpers/redis-server.js';

import { needs, POSTGRES, postgresMissing } from '../helpers/services.js';

describe('first hour: values a database returns', needs(postgresMissing), () => {
  let server: RedisServer;
  let database: pg.Pool;

  before(async () => {
    server = await RedisServer.start();
    database = new pg.Pool({ connectionString: POSTGRES, max: 2 });
  });
  after(async () => {
    await database.end();
    await server.stop();
  });

  it('a pg row with timestamptz, int8 and bytea reaches Redis and comes back with its types', async () => {
    const l2 = createRedisTier({ client: server.url });
    const writer = createCache({ ttl: '1m', l2 });
    const reader = createCache({ ttl: '1m', l1: false, l2 });
    const load = async () =>
      (await database.query("SELECT 7::int8 AS id, 'Chez Sept' AS name, now() AS updated_at, '\\x0102'::bytea AS logo"))
        .rows[0];
    const row = await writer.getOrLoad('menu:7', load);
    assert.ok(row.updated_at instanceof Date, 'pg returns a Date');
    assert.equal(writer.stats().l2?.refused, 0, 'the shared tier took it');
    const read = await reader.getOrLoad<typeof row>('menu:7', () => assert.fail('served from Redis, not loaded'));
    assert.ok(read.updated_at instanceof Date);
    assert.equal(read.updated_at.getTime(), row.updated_at.getTime());
    assert.ok(Buffer.isBuffer(read.logo) && read.logo.equals(Buffer.from([1, 2])));
    await Promise.all([writer.close(), reader.close(), l2.close()]);
  });

  it('a class instance is returned, kept in L1 only, counted, and reported once per namespace', async () => {
    class Menu {
      constructor(readonly id: number) {}
    }
    const l2 = createRedisTier({ client: server.url });
    const cache = createCache({ ttl: '1m', l2 });
    const errors: TierCacheError[] = [];
    cache.on('error', (error) => errors.push(error));
    for (let id = 0; id < 5; id++)
      assert.ok((await cache.getOrLoad(`menu:${id}`, async () => new Menu(id))) instanceof Menu);
    await cache.namespace('other').getOrLoad('m', async () => new Menu(9));
    assert.equal(cache.stats().l2?.refused, 6);
    assert.equal(errors.length, 2, 'once for the root, once for the other namespace');
    assert.ok(errors[0] instanceof InvalidValueError);
    assert.match(errors[0]?.message ?? '', /is a Menu/);
    await assert.rejects(cache.set('x', new Menu(1)), InvalidValueError, 'set still refuses it');
    await Promise.all([cache.close(), l2.close()]);
  });
});

describe('first hour: a Redis that is wrong is named', () => {
  it('refuses an empty URL, host:port, another scheme, and an ioredis Cluster, naming client', async () => {
    for (const [client, message] of [
      ['', /empty/],
      ['   ', /empty/],
      ['localhost:6379', /did you mean redis:\/\/localhost:6379/],
      ['http://127.0.0.1:6379', /not a Redis URL/],
      [['redis://127.0.0.1:7000', 'nope'], /not a Redis URL/],
    ] as const) {
      assert.throws(
        () => createRedisTier({ client: client as string }),
        (error: unknown) => error instanceof ConfigError && /client/.test(error.message) && message.test(error.message),
        JSON.stringify(client),
      );
    }
    const cluster = new Cluster([{ host: '127.0.0.1', port: 1 }], { lazyConnect: true });
    assert.throws(
      () => createRedisTier({ client: cluster as never }),
      (error: unknown) => error instanceof ConfigError && /ioredis Cluster/.test(error.message),
    );
    cluster.disconnect();
  });

  it('ready() names the cause: nothing listening, unknown host, refused credentials, TLS against plain', async () => {
    const protectedServer = await RedisServer.start(['--requirepass', 's3cret'], {
      cliArgs: ['-a', 's3cret', '--no-auth-warning'],
    });
    const cases: [string, RegExp][] = [
      [`redis://127.0.0.1:${await freePort()}`, /nothing listens/],
      ['redis://no-such-host.invalid:6379', /not found/],
      [`redis://:wrong@127.0.0.1:${protectedServer.port}`, /refused the credentials/],
      [`rediss://127.0.0.1:${protectedServer.port}`, /TLS|no answer/],
    ];
    try {
      for (const [url, cause] of cases) {
        const tier = createRedisTier({ client: url });
        await assert.rejects(
          tier.ready(1500),
          (error: unknown) => error instanceof TierUnavailableError && cause.test(error.message),
          url,
        );
        await tier.close();
      }
      const good = createRedisTier({ client: `redis://:s3cret@127.0.0.1:${protectedServer.port}` });
      await good.ready();
      await good.close();
    } finally {
      await protectedServer.stop();
    }
  });

  it('the cache reports a connection failure as its error event, once per kind, without a password in it', async () => {
    const tier = createRedisTier({ client: `redis://:hunter2@127.0.0.1:${await freePort()}` });
    const cache = createCache({ ttl: '1m', l2: tier });
    const errors: TierCacheError[] = [];
    cache.on('error', (error) => errors.push(error));
    await eventually(() => errors.length > 0, 'an error event', 3000);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // node-redis retries meanwhile
    assert.equal(errors.length, 1, 'one report of ECONNREFUSED, not one per retry');
    assert.match(errors[0]?.message ?? '', /nothing listens/);
    assert.doesNotMatch(errors[0]?.message ?? '', /hunter2/);
    assert.equal(await cache.getOrLoad('k', async () => 1), 1, 'and the cache still answers');
    await Promise.all([cache.close(), tier.close()]);
  });

  it('a logger gets the same reports (pino shape); a logger without warn() is a ConfigError', async () => {
    const logged: { err: Error; message: string }[] = [];
    const tier = createRedisTier({ client: `redis://127.0.0.1:${await freePort()}` });
    const cache = createCache({
      ttl: '1m',
      l2: tier,
      logger: { warn: (o, message) => logged.push({ ...o, message }) },
    });
    await eventually(() => logged.length > 0, 'a warning', 3000);
    assert.ok(logged[0]?.err instanceof TierUnavailableError);
    assert.match(logged[0]?.message ?? '', /^tiercache: .*nothing listens/);
    await Promise.all([cache.close(), tier.close()]);
    assert.throws(
      () => createCache({ ttl: '1m', logger: {} as never }),
      (e: unknown) => e instanceof ConfigError && /logger/.test(e.message),
    );
  });
});
