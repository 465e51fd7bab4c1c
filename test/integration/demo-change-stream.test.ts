/**
 * The demo with `--change-stream` on a PostgreSQL of the test's own (wal_level=logical) and Redis: the
 * "another application edits the database" scenario edits the hottest menus by raw SQL, and every
 * instance serves the edit with no stale read a second later; the dashboard's point names the consumer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AppConfig } from '../../demo/app.js';
import { changeStreamUnsupported, editOutside } from '../../demo/change-stream.js';
import { LocalInstance } from '../../demo/instance.js';
import { Monitor } from '../../demo/monitor.js';
import { ScenarioRunner } from '../../demo/scenarios.js';
import { seedStore } from '../../demo/store/menu-store.js';
import { PostgresStore } from '../../demo/store/postgres-store.js';
import { eventually } from '../helpers/eventually.js';
import { PostgresServer, postgresBinariesMissing } from '../helpers/postgres-server.js';
import { RedisServer } from '../helpers/redis-server.js';
import { needs } from '../helpers/services.js';

const MENUS = 300;

describe('demo: another application edits the database', needs(postgresBinariesMissing), () => {
  let postgres: PostgresServer;
  let redis: RedisServer;
  let instances: LocalInstance[];
  let monitor: Monitor;
  let scenarios: ScenarioRunner;

  before(async () => {
    [postgres, redis] = await Promise.all([PostgresServer.start(), RedisServer.start()]);
    const seeder = new PostgresStore(postgres.url);
    await seedStore(seeder, MENUS);
    await seeder.close();
    const config: AppConfig = {
      database: postgres.url,
      table: 'menus',
      redis: redis.url,
      memcached: undefined,
      ttlMs: 60_000,
      l1Entries: 10_000,
      dbDelayMs: 0,
      changeStream: true,
    };
    instances = [0, 1].map((i) => new LocalInstance(config, { rate: 200, skew: 1, restaurants: MENUS, seed: 1 + i }));
    monitor = await Monitor.start(instances, 200);
    scenarios = new ScenarioRunner(instances, monitor, {
      shared: true,
      restaurants: MENUS,
      editOutside: editOutside(postgres.url, 'menus'),
    });
  });
  after(async () => {
    monitor?.stop();
    await Promise.all((instances ?? []).map((instance) => instance.close()));
    await Promise.all([postgres?.stop(), redis?.stop()]);
  });

  it('every instance serves the edit, none serves the old menu a second later; the point names the consumer', async (t) => {
    await Promise.race(instances.map((instance) => instance.app.changeStream?.streaming()));
    await eventually(
      () => /instance \d of 2 consumes/.test(monitor.latest?.changeStream ?? ''),
      'the dashboard line',
      5000,
    );
    const result = await scenarios.run('edited-outside');
    t.diagnostic(result.summary);
    assert.equal(result.figures.error, undefined, result.summary);
    assert.equal(result.figures.menus, 20);
    assert.equal(result.figures.staleLate, 0, result.summary);
    assert.ok(Number(result.figures.convergedMs) < 1000, result.summary);
    assert.match(
      result.summary,
      /20 menus edited by raw SQL: all 2 instance\(s\) served the edit after \d+ ms; 0 stale reads/,
    );
  });

  it('is unavailable without a change stream, and --change-stream refuses SQLite', () => {
    const plain = new ScenarioRunner(instances, monitor, { shared: true, restaurants: MENUS });
    assert.match(plain.list().find((s) => s.name === 'edited-outside')?.unavailable ?? '', /--change-stream/);
    assert.match(changeStreamUnsupported('.data/menus.db') ?? '', /not SQLite/);
    assert.equal(changeStreamUnsupported(postgres.url), undefined);
  });
});
