/**
 * The demo as a newcomer runs it: `tiercache demo --report` (what `npm start -- --report` runs) seeds
 * SQLite, drives its load through the cache and prints the summary; with `--redis` and `--instances`
 * several processes share a test-started Redis; `tiercache stats` reads a running demo.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI, demoEnv, startDemo } from '../helpers/demo-process.js';
import { RedisServer } from '../helpers/redis-server.js';

const dir = mkdtempSync(join(tmpdir(), 'tiercache-demo-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function tiercache(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 90_000, env: demoEnv() }, (error, stdout, stderr) => {
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const figure = (text: string, label: string): number => {
  const match = new RegExp(`${label}\\s+([\\d,.]+)`).exec(text);
  assert.ok(match, `no "${label}" in:\n${text}`);
  return Number((match[1] as string).replaceAll(',', ''));
};

describe('demo, headless (--report)', () => {
  it('seeds SQLite once, runs the load through the cache and prints requests, queries, hit rate and offload', async () => {
    const db = join(dir, 'menus.db');
    const args = ['demo', '--report', '--duration', '2s', '--restaurants', '3000', '--rate', '5000', '--db', db];
    const { code, stdout, stderr } = await tiercache(args);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /100%\s+3,000 \/ 3,000 menus/);
    const requests = figure(stdout, 'requests');
    const queries = figure(stdout, 'database queries');
    // The load ramps from 10 % to full over 5 s: 2,800 requests are due in the first 2 s at 5,000/s.
    assert.ok(requests >= 2700, `only ${requests} requests in 2 s at 5,000/s (2,800 due with the ramp)`);
    assert.ok(queries > 0 && queries <= 3000, `${queries} queries: each of 3,000 menus loads at most once`);
    const hitRate = figure(stdout, 'hit rate');
    // Every miss is one query here (no writes, no collapsed callers counted twice, no early refresh).
    assert.ok(
      Math.abs(hitRate / 100 - (1 - queries / requests)) < 0.01,
      `hit rate ${hitRate}% vs ${queries}/${requests}`,
    );
    assert.equal(figure(stdout, 'offload ratio'), Number((requests / queries).toFixed(1)));

    // A second start reuses the seeded database: one progress line, already complete.
    const again = await tiercache(args);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((again.stdout.match(/\/ [\d,]+ menus/g) ?? []).length, 1, 'one progress line: already seeded');
  });

  it('runs several instances sharing a Redis L2: a second run is served from it', async () => {
    const server = await RedisServer.start();
    try {
      const db = join(dir, 'menus-redis.db');
      const args = ['--report', '--duration', '2s', '--restaurants', '2000', '--rate', '4000', '--db', db];
      const first = await tiercache([...args, '--instances', '2', '--redis', server.url]);
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /Instances: 2, cache L1 \+ L2/);
      assert.ok(figure(first.stdout, 'requests') >= 2100, first.stdout); // 2,240 due with the ramp
      const second = await tiercache([...args, '--redis', server.url]);
      assert.equal(second.code, 0, second.stderr);
      const l2Hits = figure(second.stdout, 'shared tier \\(L2\\)');
      assert.ok(l2Hits > 0, `no L2 hits in the second run:\n${second.stdout}`);
    } finally {
      await server.stop();
    }
  });

  it('lists its flags with --help and refuses bad ones with a clear message', async () => {
    const help = await tiercache(['demo', '--help']);
    assert.equal(help.code, 0);
    const flags = ['--port', '--duration', '--report', '--rate', '--skew', '--restaurants', '--ttl', '--instances'];
    for (const flag of [...flags, '--db', '--redis']) {
      assert.ok(help.stdout.includes(flag), `--help does not mention ${flag}`);
    }
    const bad = await tiercache(['demo', '--restaurants', 'many']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--restaurants must be a whole number ≥ 1, got many/);
    const unknown = await tiercache(['demo', '--restuarants', '5']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /Unknown option '--restuarants'/);
    const database = await tiercache(['demo', '--report', '--db', 'mongodb://127.0.0.1/x']);
    assert.notEqual(database.code, 0);
    assert.match(database.stderr, /only postgres:\/\/, mysql:\/\/, mariadb:\/\/ or a SQLite file path/);
  });
});

describe('tiercache stats', () => {
  it("prints a running demo's hit rate, miss causes and hot keys", async () => {
    const db = join(dir, 'menus-stats.db');
    const demo = await startDemo(['--port', '0', '--restaurants', '2000', '--rate', '3000', '--db', db]);
    try {
      // Until the cache's detector has seen enough reads to call a key hot: the load ramps up first, and
      // near the threshold the hot set can flicker, so the command itself is asked again (not the API
      // once, then the command: that raced).
      let result = await tiercache(['stats', demo.url]);
      for (
        let waited = 0;
        waited < 20_000 && !/estimated reads\/s\):\n {2}menu:1 /.test(result.stdout);
        waited += 250
      ) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        result = await tiercache(['stats', demo.url]);
      }
      const { code, stdout, stderr } = result;
      assert.equal(code, 0, stderr);
      assert.match(stdout, /hit rate \d+\.\d+%/);
      assert.match(stdout, /miss causes: cold [\d,]+, expired [\d,]+, evicted [\d,]+, invalidated [\d,]+/);
      // Zipf rank 0 is menu 1: the hottest key.
      assert.match(stdout, /hot keys \(cache\.hotKeys\(\), estimated reads\/s\):\n {2}menu:1 /);
      const down = await tiercache(['stats', 'http://127.0.0.1:9']);
      assert.equal(down.code, 1);
      assert.match(down.stderr, /Is the demo running/);

      // A second demo asked for the same port takes a free one and says so.
      const port = new URL(demo.url).port;
      const second = await startDemo(['--port', port, '--restaurants', '2000', '--rate', '100', '--db', db]);
      try {
        assert.notEqual(new URL(second.url).port, port);
      } finally {
        await second.stop();
      }
    } finally {
      await demo.stop();
    }
  });
});
