/**
 * The demo service end to end in one process: two application instances sharing a test-started Redis
 * and a SQLite file, the HTTP API in front of them, and the scenarios the dashboard's buttons run.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AppConfig } from '../../demo/app.js';
import { LocalInstance } from '../../demo/instance.js';
import { Monitor } from '../../demo/monitor.js';
import { ScenarioRunner } from '../../demo/scenarios.js';
import { MAX_BODY_BYTES, startServer } from '../../demo/server.js';
import { seedMenus } from '../../demo/store/menu.js';
import { seedStore } from '../../demo/store/menu-store.js';
import { SqliteStore } from '../../demo/store/sqlite-store.js';
import { RedisTier } from '../../src/index.js';
import { RedisServer } from '../helpers/redis-server.js';

const MENUS = 500;
const dir = mkdtempSync(join(tmpdir(), 'tiercache-service-'));
const database = join(dir, 'menus.db');
let redis: RedisServer;
let instances: LocalInstance[];
let monitor: Monitor;
let scenarios: ScenarioRunner;
let server: Server;
let base: string;

before(async () => {
  redis = await RedisServer.start();
  const seeder = new SqliteStore(database);
  await seedStore(seeder, MENUS);
  await seeder.close();
  const config: AppConfig = {
    database,
    table: 'menus',
    redis: redis.url,
    memcached: undefined,
    ttlMs: 60_000,
    l1Entries: 10_000,
    dbDelayMs: 2,
  };
  instances = [0, 1].map((i) => new LocalInstance(config, { rate: 300, skew: 1, restaurants: MENUS, seed: 1 + i }));
  monitor = await Monitor.start(instances, 200);
  scenarios = new ScenarioRunner(instances, monitor, {
    shared: true,
    restaurants: MENUS,
    durations: { outage: 1500, storm: 1000, shortTtl: 1000 },
  });
  server = await startServer({ instances, monitor, scenarios, setup: {} }, 0);
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

after(async () => {
  monitor?.stop();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await Promise.all((instances ?? []).map((i) => i.close()));
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const put = (id: string | number, body: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/menus/${id}`, { method: 'PUT', body, headers: { 'content-type': 'application/json', ...headers } });
const menuBody = (restaurant: string) =>
  JSON.stringify({ restaurant, cuisine: 'french', items: [{ name: 'soupe', price: 7.5 }] });

/** Every instance's database row of a menu, read past the cache. */
const row = (id: number) => (instances[0] as LocalInstance).app.store.inner.get(id);

describe('demo service', () => {
  it('answers bad input with a clear 4xx and changes nothing', async () => {
    const writesBefore = instances.reduce((n, i) => n + i.app.store.writes, 0);
    const cases: [Promise<Response>, number, RegExp][] = [
      [fetch(`${base}/menus/abc`), 400, /whole number from 1/],
      [fetch(`${base}/menus/0`), 400, /whole number from 1/],
      [fetch(`${base}/menus/-3`), 400, /whole number from 1/],
      [fetch(`${base}/menus/1.5`), 400, /whole number from 1/],
      [fetch(`${base}/menus/99999999999`), 400, /whole number from 1/],
      [fetch(`${base}/menus/${MENUS + 1}`), 404, /no menu 501/],
      [put(7, '{"restaurant": '), 400, /not JSON/],
      [put(7, '[]'), 422, /not a menu/],
      [put(7, JSON.stringify({ restaurant: 'x', cuisine: 'y', items: [] })), 422, /items/],
      [put(7, JSON.stringify({ restaurant: 'x', cuisine: 'y', items: [{ name: 'a', price: -1 }] })), 422, /price/],
      [put(7, JSON.stringify({ ...JSON.parse(menuBody('x')), id: 8 })), 422, /Unrecognized key/],
      [put(7, 'x'.repeat(MAX_BODY_BYTES + 1)), 413, /at most 65536 bytes/],
      [fetch(`${base}/menus/7`, { method: 'DELETE' }), 405, /GET or PUT/],
      [fetch(`${base}/nowhere`), 404, /nothing at GET \/nowhere/],
    ];
    for (const [response, status, message] of cases) {
      const answer = await response;
      assert.equal(answer.status, status, `${answer.url}: ${status} expected`);
      assert.match(JSON.stringify(await answer.json()), message);
    }
    assert.equal(
      instances.reduce((n, i) => n + i.app.store.writes, 0),
      writesBefore,
      'no invalid request reached the database',
    );
    assert.deepEqual(await row(7), [...seedMenus(7, 8)][0]);

    // A valid body for a menu that does not exist: 404, and nothing cached for it either.
    const unknown = await put(MENUS + 1, menuBody('ghost'));
    assert.equal(unknown.status, 404);
    assert.equal((await fetch(`${base}/menus/${MENUS + 1}`)).status, 404);
  });

  it('writes through to the database, and every instance reads the new menu', async () => {
    // Both instances hold menu 42 in L1 before the write.
    for (let i = 0; i < 4; i++) assert.equal((await fetch(`${base}/menus/42`)).status, 200);
    const versionBefore = Number(await redis.cli('GET', 'tiercache-demo:menus:v:{menu:42}'));
    const started = performance.now();
    const response = await put(42, menuBody('Chez Quarante-Deux'));
    assert.equal(response.status, 200);
    assert.equal((await row(42))?.restaurant, 'Chez Quarante-Deux');
    // Through the demo's outage wrapper, the write still moved the key's version (stale-set protection).
    assert.ok(Number(await redis.cli('GET', 'tiercache-demo:menus:v:{menu:42}')) > versionBefore);
    // The wrapper forwards every method the Redis tier has: one it hid would turn a feature off.
    const wrapper = (instances[0] as LocalInstance).app.l2 as unknown as Record<string, unknown>;
    for (const method of Object.getOwnPropertyNames(RedisTier.prototype)) {
      const own = Object.getOwnPropertyDescriptor(RedisTier.prototype, method)?.value;
      if (method !== 'constructor' && typeof own === 'function') {
        assert.equal(typeof wrapper[method], 'function', `the outage wrapper hides ${method}`);
      }
    }
    for (const instance of instances) {
      while ((await instance.read(42)).status === 200) {
        const read = await instance.read(42);
        if (read.status === 200 && read.body.restaurant === 'Chez Quarante-Deux') break;
        assert.ok(performance.now() - started < 2000, 'the other instance still serves the old menu after 2 s');
        await sleep(5);
      }
    }
  });

  it('expire the hottest key: many loads without protections, exactly one with them, across both instances', async () => {
    const off = await scenarios.run('expire-hottest-off');
    assert.equal(off.figures.burst, 1000);
    assert.ok(Number(off.figures.loads) >= 100, `protections off: only ${off.figures.loads} loads`);
    const on = await scenarios.run('expire-hottest-on');
    assert.equal(on.figures.loads, 1, on.summary);
    assert.match(on.summary, /1,000 concurrent reads caused 1 database load of it/);
  });

  it('Redis outage: no request fails, the errors are absorbed', async () => {
    const result = await scenarios.run('redis-outage');
    assert.ok(Number(result.figures.requests) > 100, result.summary);
    assert.equal(result.figures.errors, 0, result.summary);
    assert.ok(Number(result.figures.l2Errors) > 0, result.summary);
  });

  it('database outage: cached menus are served stale, none fails', async () => {
    // Every menu cached (and so in grace once expired) before the database goes down.
    for (const instance of instances) for (let id = 1; id <= MENUS; id++) await instance.read(id);
    const result = await scenarios.run('database-outage');
    assert.ok(Number(result.figures.staleServed) > 0, result.summary);
    assert.equal(result.figures.errors, 0, result.summary);
    assert.equal((await instances[0]?.read(3))?.status, 200, 'the database is back');
  });

  it('refuses a second scenario while one runs, and unknown ones', async () => {
    const first = await fetch(`${base}/api/scenarios/celebrity-storm`, { method: 'POST' });
    assert.equal(first.status, 202);
    const second = await fetch(`${base}/api/scenarios/ttl-too-short`, { method: 'POST' });
    assert.equal(second.status, 409);
    assert.equal((await fetch(`${base}/api/scenarios/nope`, { method: 'POST' })).status, 404);
    while (scenarios.running !== undefined) await sleep(50);
    const storm = scenarios.log.at(-1);
    assert.equal(storm?.name, 'celebrity-storm');
    assert.equal(storm?.figures.loads, 1, storm?.summary);
  });
});
