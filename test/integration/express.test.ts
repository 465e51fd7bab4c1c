/**
 * `tiercache/express` in real Express apps listening on free ports, over real Redis: ETag / 304,
 * Cache-Control, one entry per Vary value, only GET/HEAD 200 sent in one piece cached (not errors,
 * streams or binary bodies), and a response cached by one instance served by another.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { type Cache, ConfigError, createCache, createRedisTier, type RedisTier } from '../../src/index.js';
import { cacheResponses } from '../../src/integrations/express.js';
import { RedisServer } from '../helpers/redis-server.js';

describe('tiercache/express', () => {
  let server: RedisServer;
  let l2: RedisTier;
  let calls: number;
  const servers: Server[] = [];
  const caches: Cache[] = [];

  before(async () => {
    server = await RedisServer.start();
    l2 = createRedisTier({ client: server.url });
  });
  after(async () => {
    for (const listening of servers) listening.close();
    await Promise.all(caches.map((cache) => cache.close()));
    await l2.close();
    await server.stop();
  });

  /** An app instance with its own cache on the shared Redis tier; its base URL. */
  async function app(): Promise<string> {
    const cache = createCache({ ttl: '1m', l2 });
    caches.push(cache);
    const instance = express();
    const menus = cacheResponses(cache, { ttl: '30s', vary: ['accept-language'] });
    instance.get('/menus/:id', menus, (req, res) => {
      calls++;
      res.json({ id: req.params.id, lang: req.headers['accept-language'] ?? 'en', at: calls });
    });
    const cached = cacheResponses(cache, { ttl: '30s' });
    instance.get('/missing', cached, (_req, res) => {
      calls++;
      res.status(404).json({ error: 'no' });
    });
    instance.get('/streamed', cached, (_req, res) => {
      calls++;
      res.write('part one, ');
      res.end('part two');
    });
    instance.get('/binary', cached, (_req, res) => {
      calls++;
      res.type('application/octet-stream').send(Buffer.from([0xff, 0xfe, 0x00, 0x80]));
    });
    const listening = instance.listen(0, '127.0.0.1');
    servers.push(listening);
    await new Promise((resolve) => listening.once('listening', resolve));
    return `http://127.0.0.1:${(listening.address() as AddressInfo).port}`;
  }

  it('caches a GET 200 with an ETag and Cache-Control, answers If-None-Match with 304, and HEAD', async () => {
    calls = 0;
    const a = await app();
    const first = await fetch(`${a}/menus/1`);
    assert.equal(first.status, 200);
    const body = await first.json();
    const etag = first.headers.get('etag') as string;
    assert.match(etag, /^"[\w-]+"$/);
    assert.match(String(first.headers.get('cache-control')), /^public, max-age=(29|30)$/);
    assert.equal(first.headers.get('vary'), 'accept-language');
    const second = await fetch(`${a}/menus/1`);
    assert.deepEqual(await second.json(), body);
    assert.equal(second.headers.get('etag'), etag);
    assert.match(String(second.headers.get('content-type')), /application\/json/);
    assert.equal(calls, 1, 'the handler ran once');
    const notModified = await fetch(`${a}/menus/1`, { headers: { 'if-none-match': `W/${etag}` } });
    assert.equal(notModified.status, 304);
    assert.equal(await notModified.text(), '');
    const head = await fetch(`${a}/menus/1`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('etag'), etag);
    assert.equal(calls, 1);
  });

  it('keeps one entry per Vary value; does not cache errors, streamed or binary bodies', async () => {
    calls = 0;
    const a = await app();
    const read = async (path: string, lang?: string) =>
      fetch(`${a}${path}`, lang === undefined ? {} : { headers: { 'accept-language': lang } });
    assert.equal(((await (await read('/menus/2', 'fr')).json()) as { lang: string }).lang, 'fr');
    assert.equal(((await (await read('/menus/2', 'de')).json()) as { lang: string }).lang, 'de');
    assert.equal(((await (await read('/menus/2', 'fr')).json()) as { lang: string }).lang, 'fr');
    assert.equal(calls, 2);
    for (const path of ['/missing', '/streamed', '/binary']) {
      await (await read(path)).arrayBuffer();
      const again = await read(path);
      if (path === '/binary') assert.deepEqual([...new Uint8Array(await again.arrayBuffer())], [0xff, 0xfe, 0, 0x80]);
      else if (path === '/streamed') assert.equal(await again.text(), 'part one, part two');
      else await again.arrayBuffer();
    }
    assert.equal(calls, 8, 'each uncacheable response ran its handler both times');
  });

  it('a second instance serves the response from Redis; a bad ttl fails when the middleware is made', async () => {
    calls = 0;
    const [one, two] = [await app(), await app()];
    await (await fetch(`${one}/menus/3`)).arrayBuffer();
    const fromShared = await fetch(`${two}/menus/3`);
    assert.equal(fromShared.status, 200);
    assert.equal(((await fromShared.json()) as { id: string }).id, '3');
    assert.equal(calls, 1, 'the second instance did not run its handler');
    const cache = createCache({ ttl: '1m' });
    caches.push(cache);
    assert.throws(() => cacheResponses(cache, { ttl: 'soon' }), ConfigError);
  });
});
