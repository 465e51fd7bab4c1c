/**
 * Redis as production runs it: TLS with the operator's own CA (certificates made here with openssl),
 * and an ACL user allowed only the commands, keys and channels the cache needs — the line the README
 * gives (`REDIS_ACL` below) is the one tested.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClient } from '@redis/client';
import { createCache, createRedisTier, type RedisClient, TierUnavailableError } from '../../src/index.js';
import { eventually } from '../helpers/eventually.js';
import { RedisServer } from '../helpers/redis-server.js';

/** The README's ACL rule for the cache's user (prefix `tiercache:`), minus the user name and password. */
export const REDIS_ACL =
  'on ~tiercache:* resetchannels &tiercache:* -@all +get +mget +set +eval +evalsha +publish +subscribe +smembers +multi +exec +scan +unlink +del +incr +pexpire +pttl +sadd +sismember +auth';

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

/** A CA, and a server certificate it signed for `names` (subjectAltName entries such as IP:127.0.0.1). */
function certificates(dir: string, names: string, prefix: string): void {
  openssl(
    dir,
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${prefix}ca.key`,
    '-out',
    `${prefix}ca.crt`,
    '-days',
    '1',
    '-subj',
    `/CN=${prefix}test-ca`,
  );
  openssl(
    dir,
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    `${prefix}server.key`,
    '-out',
    `${prefix}server.csr`,
    '-subj',
    '/CN=redis',
  );
  writeFileSync(join(dir, `${prefix}ext`), `subjectAltName=${names}`);
  openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${prefix}server.csr`,
    '-CA',
    `${prefix}ca.crt`,
    '-CAkey',
    `${prefix}ca.key`,
    '-CAcreateserial',
    '-out',
    `${prefix}server.crt`,
    '-days',
    '1',
    '-extfile',
    `${prefix}ext`,
  );
}

async function tlsServer(dir: string, prefix: string): Promise<RedisServer> {
  const file = (name: string) => join(dir, `${prefix}${name}`);
  return RedisServer.start(
    [
      '--tls-cert-file',
      file('server.crt'),
      '--tls-key-file',
      file('server.key'),
      '--tls-ca-cert-file',
      file('ca.crt'),
      '--tls-auth-clients',
      'no',
    ],
    { tls: true, cliArgs: ['--tls', '--cacert', file('ca.crt')] },
  );
}

describe('TLS with your own CA', { timeout: 60_000 }, () => {
  let dir: string;
  let good: RedisServer;
  let misnamed: RedisServer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiercache-tls-'));
    certificates(dir, 'IP:127.0.0.1,DNS:localhost', 'good-');
    certificates(dir, 'DNS:elsewhere.invalid', 'misnamed-');
    good = await tlsServer(dir, 'good-');
    misnamed = await tlsServer(dir, 'misnamed-');
  });
  after(async () => {
    await Promise.all([good.stop(), misnamed.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const client = (server: RedisServer, ca: string) =>
    createClient({
      url: `rediss://127.0.0.1:${server.port}`,
      socket: { ca: readFileSync(join(dir, ca)), reconnectStrategy: false },
    });

  it('caches over rediss:// with a client that trusts the CA', async () => {
    const own = client(good, 'good-ca.crt');
    own.on('error', () => {});
    await own.connect();
    const l2 = createRedisTier({ client: own as unknown as RedisClient });
    const a = createCache({ ttl: '1m', l2 });
    const b = createCache({ ttl: '1m', l2 });
    let loads = 0;
    const load = async () => {
      loads++;
      return { id: 1 };
    };
    assert.deepEqual(await a.getOrLoad('menu', load), { id: 1 });
    assert.deepEqual(await b.getOrLoad('menu', load), { id: 1 });
    assert.equal(loads, 1, 'the second instance read it from Redis over TLS');
    await Promise.all([a.close(), b.close(), l2.close()]);
    own.destroy();
  });

  it('refuses a certificate its CA did not sign, and one issued for another name', async () => {
    const untrusted = client(good, 'misnamed-ca.crt');
    untrusted.on('error', () => {});
    await assert.rejects(untrusted.connect(), /self-signed|unable to verify|certificate/i);
    const wrongName = client(misnamed, 'misnamed-ca.crt');
    wrongName.on('error', () => {});
    await assert.rejects(wrongName.connect(), /altnames|Hostname|IP: 127\.0\.0\.1/i);
  });

  it('a tier given a rediss:// URL it cannot verify serves from the loader and says so', async () => {
    const l2 = createRedisTier({ client: `rediss://127.0.0.1:${good.port}`, timeout: '200ms' });
    const cache = createCache({ ttl: '1m', l2 });
    assert.equal(await cache.getOrLoad('k', async () => 'from the database'), 'from the database');
    assert.ok((cache.stats().l2?.errors ?? 0) > 0, 'the failures are counted, not hidden');
    await assert.rejects(cache.clear(), TierUnavailableError);
    await Promise.all([cache.close(), l2.close()]);
  });
});

describe('an ACL user with only what the cache needs', { timeout: 60_000 }, () => {
  let server: RedisServer;
  before(async () => {
    server = await RedisServer.start(['--user', 'cache', ...REDIS_ACL.split(' '), '>s3cret']);
  });
  after(async () => {
    await server.stop();
  });

  it('runs every feature (locks, versions, tags, bus, batches, clear) without a single denied command', async () => {
    const url = `redis://cache:s3cret@127.0.0.1:${server.port}`;
    const l2 = createRedisTier({ client: url });
    const other = createRedisTier({ client: url });
    const a = createCache({ ttl: '1m', grace: '1m', l2 });
    const b = createCache({ ttl: '1m', l2: other });
    let loads = 0;
    const load = async () => {
      loads++;
      return 'v';
    };
    await Promise.all(Array.from({ length: 20 }, () => a.getOrLoad('k', load)));
    assert.equal(await b.getOrLoad('k', load), 'v');
    assert.equal(loads, 1);
    assert.equal(await a.set('t', 1, { tags: ['red'] }), 'stored');
    assert.equal(await a.writeThrough('w', 2, () => undefined), 'stored');
    await a.expire('w');
    assert.deepEqual(await a.getOrLoadMany(['x', 'y'], async (keys) => new Map(keys.map((key) => [key, key]))), [
      'x',
      'y',
    ]);
    assert.equal(await b.invalidateTags(['red']), 1);
    await b.delete('k');
    await eventually(() => (a.stats().bus?.received ?? 0) > 0, 'the bus delivers between instances');
    await a.clear();
    const denied = await server.cli('ACL', 'LOG');
    assert.equal(denied, '', `denied: ${denied}`);
    assert.equal(a.stats().l2?.errors, 0);
    assert.equal(b.stats().l2?.errors, 0);
    await Promise.all([a.close(), b.close(), l2.close(), other.close()]);
  });
});
