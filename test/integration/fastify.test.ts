/**
 * `tiercache/fastify` in a real Fastify app (inject), over real Redis: response caching with ETag / 304,
 * Cache-Control and Vary, only for GET 200, shared between two app instances through the L2, and the
 * cache closed with the app.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { type Cache, createCache, createRedisTier, type RedisTier } from '../../src/index.js';
import { tiercache } from '../../src/integrations/fastify.js';
import { RedisServer } from '../helpers/redis-server.js';

describe('tiercache/fastify', () => {
  let server: RedisServer;
  let l2: RedisTier;
  let calls: number;

  before(async () => {
    server = await RedisServer.start();
    l2 = createRedisTier({ client: server.url });
  });
  after(async () => {
    await l2.close();
    await server.stop();
  });

  async function app(): Promise<{ app: FastifyInstance; cache: Cache }> {
    const cache = createCache({ ttl: '1m', l2 });
    const instance = Fastify();
    await instance.register(tiercache, { cache });
    instance.get('/menus/:id', { config: { tiercache: { ttl: '30s', vary: ['accept-language'] } } }, async (req) => {
      calls++;
      const { id } = req.params as { id: string };
      return { id, lang: req.headers['accept-language'] ?? 'en', at: calls };
    });
    instance.get('/missing', { config: { tiercache: { ttl: '30s' } } }, async (_req, reply) => {
      calls++;
      return reply.code(404).send({ error: 'no' });
    });
    instance.get('/plain', async () => {
      calls++;
      return { plain: true };
    });
    await instance.ready();
    return { app: instance, cache };
  }

  it('caches a GET 200 with an ETag and Cache-Control, answers If-None-Match with 304', async () => {
    calls = 0;
    const { app: a } = await app();
    const first = await a.inject({ method: 'GET', url: '/menus/1' });
    assert.equal(first.statusCode, 200);
    const etag = first.headers.etag as string;
    assert.match(etag, /^"[\w-]+"$/);
    assert.match(String(first.headers['cache-control']), /^public, max-age=(29|30)$/);
    assert.equal(first.headers.vary, 'accept-language');
    const second = await a.inject({ method: 'GET', url: '/menus/1' });
    assert.equal(second.statusCode, 200);
    assert.deepEqual(second.json(), first.json());
    assert.equal(second.headers.etag, etag);
    assert.match(String(second.headers['content-type']), /application\/json/);
    assert.equal(calls, 1, 'the handler ran once');
    const notModified = await a.inject({ method: 'GET', url: '/menus/1', headers: { 'if-none-match': `W/${etag}` } });
    assert.equal(notModified.statusCode, 304);
    assert.equal(notModified.body, '');
    assert.equal(calls, 1);
    await a.close();
  });

  it('keeps one entry per Vary value; does not cache errors or routes that did not ask', async () => {
    calls = 0;
    const { app: a } = await app();
    const fr = await a.inject({ method: 'GET', url: '/menus/2', headers: { 'accept-language': 'fr' } });
    const de = await a.inject({ method: 'GET', url: '/menus/2', headers: { 'accept-language': 'de' } });
    assert.equal(fr.json().lang, 'fr');
    assert.equal(de.json().lang, 'de');
    assert.equal(
      (await a.inject({ method: 'GET', url: '/menus/2', headers: { 'accept-language': 'fr' } })).json().lang,
      'fr',
    );
    assert.equal(calls, 2);
    await a.inject({ method: 'GET', url: '/missing' });
    await a.inject({ method: 'GET', url: '/missing' });
    await a.inject({ method: 'GET', url: '/plain' });
    await a.inject({ method: 'GET', url: '/plain' });
    assert.equal(calls, 6, 'a 404 and an uncached route run every time');
    await a.close();
  });

  it('a second app instance serves the response from Redis; closing the app closes its cache', async () => {
    calls = 0;
    const [one, two] = [await app(), await app()];
    await one.app.inject({ method: 'GET', url: '/menus/3' });
    const fromShared = await two.app.inject({ method: 'GET', url: '/menus/3' });
    assert.equal(fromShared.statusCode, 200);
    assert.equal(calls, 1, 'the second instance did not run its handler');
    assert.equal((one.app as unknown as { cache: Cache }).cache, one.cache, 'decorated');
    await one.app.close();
    await assert.rejects(one.cache.get('x'), /closed/);
    await two.app.close();
  });
});
