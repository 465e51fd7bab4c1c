/**
 * Fenced loads (Kleppmann's paused lock holder) and a background load that keeps its lock, against a
 * real Redis and a really paused process (SIGSTOP). Each test failed on the code before the fix.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { after, before, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createCache, createRedisTier, type RedisTier } from '../../src/index.js';
import { deferred } from '../helpers/fake-clock.js';
import { RedisServer } from '../helpers/redis-server.js';

const WORKER = fileURLToPath(new URL('../helpers/fence-worker.ts', import.meta.url));

function nextMessage(child: ChildProcess, type: string): Promise<Record<string, unknown>> {
  return new Promise((resolve) => {
    const listen = (message: Record<string, unknown>) => {
      if (message.type !== type) return;
      child.off('message', listen);
      resolve(message);
    };
    child.on('message', listen);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('fenced loads against a real Redis', { timeout: 60_000 }, () => {
  let server: RedisServer;
  let l2: RedisTier;
  let worker: ChildProcess;

  before(async () => {
    server = await RedisServer.start();
    l2 = createRedisTier({ client: server.url });
  });
  beforeEach(async () => {
    await server.cli('FLUSHALL');
    worker = fork(WORKER, [server.url], { execArgv: ['--import', 'tsx'] });
    await nextMessage(worker, 'ready');
  });
  after(async () => {
    await l2.close();
    await server.stop();
  });

  async function stopWorker(): Promise<void> {
    worker.send({ type: 'exit' });
    await once(worker, 'exit');
  }

  it('a lock holder paused past lock.ttl cannot overwrite the newer value another instance stored', async () => {
    const reader = createCache({ ttl: '1m', l1: false, l2 });
    worker.send({ type: 'load', row: 'v1' });
    await nextMessage(worker, 'read'); // A has read v1 and holds the lock
    worker.kill('SIGSTOP');
    await sleep(700); // past lock.ttl: A could not extend its lock
    // The row changes (no cache write: another service did it); B loads and stores v2.
    const b = createCache({ ttl: '1m', l2, lock: { ttl: '300ms', wait: '5s' } });
    assert.equal(await b.getOrLoad('menu', async () => 'v2'), 'v2');
    const done = nextMessage(worker, 'done');
    worker.kill('SIGCONT');
    const finished = await done;
    assert.equal(finished.value, 'v1', "A's callers still get what A loaded");
    assert.equal(finished.dropped, 1, "A's store was refused");
    assert.equal(await reader.get('menu'), 'v2', 'Redis keeps the newer value');
    await Promise.all([reader.close(), b.close()]);
    await stopWorker();
  });

  it('a paused holder whose lock moved to another loader cannot store, even before that loader stores', async () => {
    const reader = createCache({ ttl: '1m', l1: false, l2 });
    worker.send({ type: 'load', row: 'v1' });
    await nextMessage(worker, 'read');
    worker.kill('SIGSTOP');
    await sleep(700);
    const b = createCache({ ttl: '1m', l2, lock: { ttl: '5s', wait: '5s' } });
    const bLoad = deferred<string>();
    let bStarted!: () => void;
    const bHasLock = new Promise<void>((resolve) => {
      bStarted = resolve;
    });
    const bRead = b.getOrLoad('menu', () => {
      bStarted();
      return bLoad.promise;
    });
    await bHasLock; // B holds the lock and is loading v2
    const done = nextMessage(worker, 'done');
    worker.kill('SIGCONT');
    const finished = await done;
    assert.equal(finished.dropped, 1, "A's store was refused: its lock is B's now");
    assert.equal(await reader.get('menu'), undefined, 'v1 never reached Redis');
    bLoad.resolve('v2');
    assert.equal(await bRead, 'v2');
    assert.equal(await reader.get('menu'), 'v2');
    await Promise.all([reader.close(), b.close()]);
    await stopWorker();
  });

  it('a tagged load that read the row before a tag invalidation cannot store it after (tag fencing)', async () => {
    await stopWorker();
    const a = createCache({ ttl: '1m', l2 });
    const b = createCache({ ttl: '1m', l2 });
    const reader = createCache({ ttl: '1m', l1: false, l2 });
    let row = 'v1';
    const readRow = deferred<void>();
    const resume = deferred<void>();
    // A's loader reads v1, then stalls; its key is not cached anywhere yet, so no tag set holds it.
    const aRead = a.getOrLoad('menu:1', async (context) => {
      const seen = row;
      readRow.resolve();
      await resume.promise;
      context.setTags(['menus']);
      return seen;
    });
    await readRow.promise;
    row = 'v2'; // a batch job rewrites every menu, then invalidates the tag
    await b.invalidateTags(['menus']);
    resume.resolve();
    assert.equal(await aRead, 'v1', "A's callers get what A read");
    assert.equal(await reader.get('menu:1'), undefined, 'v1 did not reach Redis');
    assert.equal(await b.getOrLoad('menu:1', async () => row), 'v2');
    assert.equal(a.stats().freshness.staleLoadsDropped + a.stats().superseded, 1);
    await Promise.all([a.close(), b.close(), reader.close()]);
  });

  it('a load that goes on after a soft timeout keeps the lock: one load across instances, not two', async () => {
    await stopWorker();
    const options = { ttl: '200ms', grace: '1h', l2, softTimeout: '50ms', lock: { ttl: '2s', wait: '5s' } } as const;
    const a = createCache(options);
    const b = createCache(options);
    await a.set('menu', 'v1');
    await sleep(250); // expired in every tier, still there for fail-safe
    let loads = 0;
    const release = deferred<void>();
    const slowLoad = async () => {
      loads++;
      await release.promise;
      return 'v2';
    };
    assert.equal(await a.getOrLoad('menu', slowLoad), 'v1', 'A answers stale at its soft timeout');
    // A's load goes on in the background; B must not start a second one.
    const bRead = b.getOrLoad('menu', slowLoad);
    await sleep(100);
    assert.equal(loads, 1, 'B waits for the background load instead of loading');
    release.resolve();
    assert.equal(await bRead, 'v2');
    assert.equal(loads, 1);
    await Promise.all([a.close(), b.close()]);
  });
});
