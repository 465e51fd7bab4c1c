#!/usr/bin/env bash
# Packs tiercache as `npm pack` would publish it and installs the tarball into throwaway ESM, CommonJS and
# strict TypeScript projects, each of which imports it, (type-)checks and runs a Redis round trip against
# a redis-server of its own on a free port. Run from the repository root; CI runs it after the tests.
set -euo pipefail

root=$(pwd)
work=$(mktemp -d)
redis_pid=''
cleanup() {
  if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

npm pack --silent --pack-destination "$work" >/dev/null # prepack builds dist/
tarball=$(ls "$work"/tiercache-*.tgz)
listing=$(tar tzf "$tarball")
for needed in package/dist/index.js package/dist/index.d.ts package/README.md package/package.json; do
  grep -qx "$needed" <<<"$listing" || { echo "the package lacks $needed"; exit 1; }
done
if grep -q '\.map$' <<<"$listing"; then echo 'the package ships source maps pointing at files it does not ship'; exit 1; fi
echo "package: $(wc -l <<<"$listing") files, $(du -k "$tarball" | cut -f1) KB"

port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no >/dev/null &
redis_pid=$!
for _ in $(seq 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
url="redis://127.0.0.1:$port"

project() { # <name> [peer packages…]
  mkdir -p "$work/$1"
  cd "$work/$1"
  shift
  npm init -y >/dev/null
  # (No install scripts: @keyv/test-suite depends on sqlite3, whose script downloads or compiles a binary.)
  npm install --silent --no-audit --no-fund --ignore-scripts "$tarball" "$@" >/dev/null
}
redis_client="@redis/client@$(node -p "require('$root/package.json').peerDependencies['@redis/client']")"

# L1 only: nothing but the package installs, and a Redis tier without its peer names the package.
project l1
npm pkg set type=module
cat >index.js <<JS
import { createCache, createRedisTier, ConfigError } from 'tiercache';
import { existsSync } from 'node:fs';
if (existsSync('node_modules/@redis/client') || existsSync('node_modules/prom-client')) throw new Error('optional peers were installed');
const cache = createCache({ ttl: '1m' });
if ((await cache.getOrLoad('k', async () => 1)) !== 1) throw new Error('bad L1 read');
try { createRedisTier({ client: 'redis://127.0.0.1:6379' }); throw new Error('no error'); }
catch (error) { if (!(error instanceof ConfigError) || !/npm install @redis\/client/.test(error.message)) throw error; }
await cache.close();
console.log('l1 only: ok, ' + (await import('node:fs')).readdirSync('node_modules').join(' '));
JS
node index.js

# ESM
project esm "$redis_client"
npm pkg set type=module
cat >index.js <<JS
import { createCache, createRedisTier } from 'tiercache';
import { TiercacheKeyvStore } from 'tiercache/keyv';
if (typeof TiercacheKeyvStore !== 'function') throw new Error('no tiercache/keyv');
const { tiercache: plugin } = await import('tiercache/fastify');
if (typeof plugin !== 'function') throw new Error('no tiercache/fastify');
// The integrations load without their frameworks installed (only types come from them)…
const { createCacheManager } = await import('tiercache/cache-manager');
const { cacheResponses } = await import('tiercache/express');
if (typeof cacheResponses(createCache({ ttl: '1m' }), { ttl: '1s' }) !== 'function') throw new Error('no tiercache/express');
const { instrumentOpenTelemetry } = await import('tiercache/opentelemetry');
const { createPostgresChangeStream } = await import('tiercache/postgres');
const { createBinlogChangeStream } = await import('tiercache/mariadb');
try { createBinlogChangeStream({ cache: createCache({ ttl: '1m' }), connection: 'mysql://u@h/app', tables: { t: {} } }); throw new Error('no error'); }
catch (error) { if (!/npm install @vlasky\/zongji/.test(error.message)) throw error; }
try { createPostgresChangeStream({ cache: createCache({ ttl: '1m' }), connection: '', tables: { t: {} } }); throw new Error('no error'); }
catch (error) { if (!/npm install pg-logical-replication/.test(error.message)) throw error; }
// …and the one that needs its peer at run time names it.
try { instrumentOpenTelemetry(createCache({ ttl: '1m' })); throw new Error('no error'); }
catch (error) { if (!/npm install @opentelemetry\/api/.test(error.message)) throw error; }
const l2 = createRedisTier({ client: '$url' });
await l2.ready();
const cache = createCache({ ttl: '1m', l2 });
const value = await cache.getOrLoad('k', async () => ({ at: new Date(0) }));
if ((await createCacheManager(cache, { closeCache: false }).wrap('w', () => 7)) !== 7) throw new Error('bad wrap');
const other = createCache({ ttl: '1m', l1: false, l2 });
const read = await other.getOrLoad('k', () => { throw new Error('not from Redis'); });
if (!(read.at instanceof Date) || read.at.getTime() !== value.at.getTime()) throw new Error('bad round trip');
await cache.close(); await other.close(); await l2.close();
console.log('esm: ok');
JS
node index.js

# CommonJS (what npm init -y makes): require() of the ESM package, Node >= 20.19
project cjs "$redis_client"
cat >index.js <<JS
const { createCache, createRedisTier } = require('tiercache');
(async () => {
  const l2 = createRedisTier({ client: '$url' });
  await l2.ready();
  const cache = createCache({ ttl: '1m', l2 });
  await cache.set('c', 42);
  const other = createCache({ ttl: '1m', l1: false, l2 });
  if ((await other.get('c')) !== 42) throw new Error('bad round trip');
  await cache.close(); await other.close(); await l2.close();
  console.log('cjs: ok');
})().catch((error) => { console.error(error); process.exit(1); });
JS
node --no-warnings index.js

# Strict TypeScript, checked with the repository's compiler
project ts "$redis_client" cache-manager@7 @opentelemetry/api@1
npm pkg set type=module
cat >tsconfig.json <<JSON
{ "compilerOptions": { "strict": true, "module": "nodenext", "moduleResolution": "nodenext", "target": "es2022",
  "noEmit": true, "skipLibCheck": false, "types": [], "exactOptionalPropertyTypes": true, "noUncheckedIndexedAccess": true } }
JSON
cat >index.ts <<TS
import { type Cache, createCache, createRedisTier, type WriteOutcome } from 'tiercache';
const l2 = createRedisTier({ client: '$url' });
const cache: Cache = createCache({ ttl: '1m', l2 });
const outcome: WriteOutcome = await cache.set('t', { n: 1 });
const n: number | undefined = (await cache.get<{ n: number }>('t'))?.n;
console.log(outcome, n);
import type { Cache as CacheManager } from 'cache-manager';
import { createCacheManager } from 'tiercache/cache-manager';
import { instrumentOpenTelemetry } from 'tiercache/opentelemetry';
const manager: CacheManager = createCacheManager(cache, { closeCache: false });
const wrapped: { n: number } = await manager.wrap('w', async () => ({ n: 2 }), 60_000, (value: { n: number }) => value.n * 1_000);
console.log(wrapped.n);
instrumentOpenTelemetry(cache, { recordKeys: false }).stop();
await cache.close();
await l2.close();
TS
mkdir -p node_modules/@types && ln -s "$root/node_modules/@types/node" node_modules/@types/node
"$root/node_modules/.bin/tsc" -p . --types node
echo 'ts: type-checks'

# Keyv's published API compliance suite (@keyv/test-suite, under vitest) on tiercache/keyv over Redis
project keyv-suite "$redis_client" vitest@4 keyv@5 @keyv/test-suite@2
npm pkg set type=module
cat >keyv.test.js <<'JS'
import * as test from 'vitest';
import keyvTestSuite from '@keyv/test-suite';
import Keyv from 'keyv';
import { createCache, createRedisTier } from 'tiercache';
import { TiercacheKeyvStore } from 'tiercache/keyv';

const l2 = createRedisTier({ client: process.env.REDIS_URL });
test.afterAll(() => l2.close());
keyvTestSuite(test, Keyv, () => new TiercacheKeyvStore(createCache({ ttl: '1h', l2 }), { closeCache: false }));
JS
REDIS_URL="$url" npx vitest run --reporter=dot 2>&1 | tail -4
