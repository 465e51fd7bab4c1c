/**
 * `tiercache/cache-manager` in real NestJS applications over real Redis: `CacheInterceptor`, `@CacheTTL`
 * and `@Inject(CACHE_MANAGER)` from `@nestjs/cache-manager`, with the manager provided by
 * `cacheManagerModule(cache)` — and, for an application that keeps `CacheModule.register()`, by its own
 * `CACHE_MANAGER` provider. Two application instances share the cache through Redis.
 *
 * (Constructor parameters name their tokens with `@Inject`: tsx compiles decorators without emitting
 * the parameter types Nest would otherwise read.)
 */
import 'reflect-metadata';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { CACHE_MANAGER, CacheInterceptor, CacheModule, CacheTTL } from '@nestjs/cache-manager';
import {
  Controller,
  Delete,
  Get,
  type INestApplication,
  Inject,
  Injectable,
  Module,
  NotFoundException,
  Param,
  UseInterceptors,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Cache as CacheManager } from 'cache-manager';
import { type Cache, createCache, createRedisTier, type RedisTier } from '../../src/index.js';
import { cacheManagerModule, createCacheManager } from '../../src/integrations/cache-manager.js';
import { eventually } from '../helpers/eventually.js';
import { RedisServer } from '../helpers/redis-server.js';

/** The database: counts its reads, shared by every application instance of a test. */
@Injectable()
class MenuStore {
  reads = 0;
  async find(id: string): Promise<{ id: string; name: string }> {
    this.reads++;
    await new Promise((resolve) => setTimeout(resolve, 30));
    if (id === 'missing') throw new NotFoundException(`no menu ${id}`);
    return { id, name: `menu ${id}` };
  }
}

@Controller('menus')
class MenusController {
  constructor(
    @Inject(CACHE_MANAGER) private readonly cache: CacheManager,
    @Inject(MenuStore) private readonly store: MenuStore,
  ) {}

  @Get('cached/:id')
  @UseInterceptors(CacheInterceptor)
  @CacheTTL(30_000)
  cached(@Param('id') id: string) {
    return this.store.find(id);
  }

  @Get('wrapped/:id')
  wrapped(@Param('id') id: string) {
    return this.cache.wrap(`menu:${id}`, () => this.store.find(id), 30_000);
  }

  @Delete('wrapped/:id')
  async edit(@Param('id') id: string) {
    await this.cache.del(`menu:${id}`);
    return { ok: true };
  }
}

describe('tiercache/cache-manager in NestJS', () => {
  let server: RedisServer;
  const tiers: RedisTier[] = [];
  const apps: INestApplication[] = [];

  before(async () => {
    server = await RedisServer.start();
  });
  after(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await Promise.all(tiers.map((tier) => tier.close()));
    await server.stop();
  });

  /** One application instance (its own cache and Redis connections), listening: its base URL and its cache. */
  async function instance(store: MenuStore, wiring: 'module' | 'CacheModule'): Promise<{ url: string; cache: Cache }> {
    const l2 = createRedisTier({ client: server.url });
    tiers.push(l2);
    const cache = createCache({ ttl: '1m', l2 });
    const metadata =
      wiring === 'module'
        ? { imports: [cacheManagerModule(cache)], providers: [{ provide: MenuStore, useValue: store }] }
        : {
            imports: [CacheModule.register()],
            providers: [
              { provide: MenuStore, useValue: store },
              { provide: CACHE_MANAGER, useValue: createCacheManager(cache) },
            ],
          };
    @Module({ ...metadata, controllers: [MenusController] })
    class AppModule {}
    const app = await NestFactory.create(AppModule, { logger: false });
    apps.push(app);
    await app.listen(0, '127.0.0.1');
    return { url: `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`, cache };
  }

  /** What the shared tier holds, read without an L1 of its own. */
  function sharedTierReader(): Cache {
    const l2 = createRedisTier({ client: server.url });
    tiers.push(l2);
    return createCache({ ttl: '1m', l1: false, l2 });
  }

  const json = async (url: string, init?: RequestInit) => {
    const response = await fetch(url, init);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  for (const wiring of ['module', 'CacheModule'] as const) {
    it(`CacheInterceptor caches a GET response, shared by two instances through Redis (${wiring})`, async () => {
      const store = new MenuStore();
      const [a, b] = [(await instance(store, wiring)).url, (await instance(store, wiring)).url];
      const id = wiring === 'module' ? '7' : '8'; // the tests share one Redis
      const expected = { status: 200, body: { id, name: `menu ${id}` } };
      assert.deepEqual(await json(`${a}/menus/cached/${id}`), expected);
      assert.deepEqual(await json(`${a}/menus/cached/${id}`), expected);
      // CacheInterceptor stores a response in a `tap` after sending it, so the shared tier holds it a
      // few round trips after the first answer (seen at 35 ms under load): wait for that, not a clock.
      const shared = sharedTierReader();
      await eventually(() => shared.has(`/menus/cached/${id}`), "instance a's store reached Redis");
      assert.deepEqual(await json(`${b}/menus/cached/${id}`), expected);
      assert.equal(store.reads, 1, 'one database read for three requests on two instances');
    });
  }

  it('wrap through @Inject(CACHE_MANAGER): 40 concurrent requests on two instances, one database read', async () => {
    const store = new MenuStore();
    const [{ url: a, cache: cacheOfA }, { url: b }] = [
      await instance(store, 'module'),
      await instance(store, 'module'),
    ];
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => json(`${i % 2 === 0 ? a : b}/menus/wrapped/9`)),
    );
    assert.equal(store.reads, 1);
    assert.ok(answers.every((answer) => answer.status === 200 && answer.body.name === 'menu 9'));
    assert.deepEqual(await json(`${b}/menus/wrapped/9`, { method: 'DELETE' }), { status: 200, body: { ok: true } });
    // The bus carries the delete to a's L1 within milliseconds, not before `del` returns.
    await eventually(async () => !(await cacheOfA.has('menu:9')), "the delete reached instance a's L1");
    await json(`${a}/menus/wrapped/9`);
    assert.equal(store.reads, 2, 'the delete on one instance reached the other');
  });

  it("a Nest exception thrown in wrap's function keeps its status: 404, and nothing cached", async () => {
    const store = new MenuStore();
    const { url: a } = await instance(store, 'module');
    assert.equal((await json(`${a}/menus/wrapped/missing`)).status, 404);
    assert.equal((await json(`${a}/menus/wrapped/missing`)).status, 404);
    assert.equal(store.reads, 2);
  });
});
