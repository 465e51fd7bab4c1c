/**
 * `tiercache/keyv` under Keyv itself, over real Redis: what Keyv's callers rely on — get/set/delete/has,
 * many-key calls, TTLs, namespaces that clear apart, values Keyv serialized — and two processes' worth of
 * caches sharing entries through the L2.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Keyv from 'keyv';
import { createCache, createRedisTier, type RedisTier } from '../../src/index.js';
import { TiercacheKeyvStore } from '../../src/integrations/keyv.js';
import { eventually } from '../helpers/eventually.js';
import { RedisServer } from '../helpers/redis-server.js';

describe('tiercache/keyv: a Keyv store', () => {
  let server: RedisServer;
  let l2: RedisTier;

  before(async () => {
    server = await RedisServer.start();
    l2 = createRedisTier({ client: server.url });
  });
  after(async () => {
    await l2.close();
    await server.stop();
  });

  const keyv = (namespace?: string) =>
    new Keyv({ store: new TiercacheKeyvStore(createCache({ ttl: '1h', l2 })), ...(namespace ? { namespace } : {}) });

  it('gets, sets, deletes and answers has, one key and many', async () => {
    const store = keyv();
    assert.equal(await store.get('missing'), undefined);
    assert.equal(await store.set('a', { n: 1 }), true);
    assert.deepEqual(await store.get('a'), { n: 1 });
    assert.equal(await store.has('a'), true);
    await store.set('b', 'two');
    assert.deepEqual(await store.get(['a', 'b', 'c']), [{ n: 1 }, 'two', undefined]);
    assert.equal(await store.delete('a'), true);
    assert.equal(await store.delete('a'), false, 'a second delete finds nothing');
    assert.equal(await store.get('a'), undefined);
    await store.disconnect();
  });

  it('expires by TTL; a set without one keeps the cache default', async () => {
    const store = keyv();
    await store.set('short', 1, 50);
    await store.set('long', 2);
    await new Promise((resolve) => setTimeout(resolve, 80));
    assert.equal(await store.get('short'), undefined);
    assert.equal(await store.get('long'), 2);
    await store.disconnect();
  });

  it('namespaces are apart, and clear() clears one', async () => {
    const [users, menus] = [keyv('users'), keyv('menus')];
    await users.set('1', 'ada');
    await menus.set('1', 'soup');
    assert.equal(await users.get('1'), 'ada');
    assert.equal(await menus.get('1'), 'soup');
    await users.clear();
    assert.equal(await users.get('1'), undefined);
    assert.equal(await menus.get('1'), 'soup');
    await Promise.all([users.disconnect(), menus.disconnect()]);
  });

  it('another instance reads what one wrote, through the shared tier', async () => {
    const [a, b] = [keyv('shared'), keyv('shared')];
    await a.set('k', { from: 'a' });
    assert.deepEqual(await b.get('k'), { from: 'a' });
    await a.delete('k');
    // b's L1 copy goes when the bus delivers a's delete: milliseconds after delete() returns, not before.
    await eventually(async () => (await b.get('k')) === undefined, 'the delete reached the other instance');
    await Promise.all([a.disconnect(), b.disconnect()]);
  });
});
