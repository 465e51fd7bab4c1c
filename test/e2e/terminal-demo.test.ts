import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { RedisServer } from '../helpers/redis-server.js';

const demo = fileURLToPath(new URL('../../demo/terminal.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tiercache-demo-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function runDemo(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // The demo would pick up REDIS_URL; these tests never touch a Redis they did not start.
    const env = { ...process.env };
    delete env.REDIS_URL;
    execFile(
      process.execPath,
      ['--import', 'tsx', demo, ...args],
      { timeout: 60_000, env },
      (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const number = (text: string, label: string): number => {
  const match = new RegExp(`${label}\\s+([\\d,]+)`).exec(text);
  assert.ok(match, `no "${label}" in:\n${text}`);
  return Number((match[1] as string).replaceAll(',', ''));
};

describe('terminal demo', () => {
  it('seeds SQLite, runs the load through the cache and prints a summary', async () => {
    const db = join(dir, 'menus.db');
    const { code, stdout, stderr } = await runDemo(['--duration', '1s', '--restaurants', '3000', '--db', db]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /100%\s+3,000 \/ 3,000 menus/);
    assert.match(stdout, /Summary after/);
    const requests = number(stdout, 'requests');
    const reads = number(stdout, 'database reads');
    assert.ok(requests > 1000, `only ${requests} requests`);
    assert.ok(reads > 0 && reads <= 3000, `database reads ${reads}: each of 3,000 menus loads at most once in 1 s`);
    assert.match(stdout, /hit rate\s+\d+\.\d+%/);
    assert.match(stdout, /p50 .* p99 /);

    // A second start reuses the seeded database.
    const again = await runDemo(['--duration', '1s', '--restaurants', '3000', '--db', db]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((again.stdout.match(/\/ [\d,]+ menus/g) ?? []).length, 1, 'one progress line: already seeded');
  });

  it('adds a shared Redis tier with --redis: a second run is served from L2', async () => {
    const server = await RedisServer.start();
    try {
      const db = join(dir, 'menus-redis.db');
      const args = ['--duration', '1s', '--restaurants', '2000', '--db', db, '--redis', server.url];
      const first = await runDemo(args);
      assert.equal(first.code, 0, first.stderr);
      const second = await runDemo(args);
      assert.equal(second.code, 0, second.stderr);
      const l2Hits = Number((/shared tier \(L2\)\s+([\d,]+) hits/.exec(second.stdout)?.[1] ?? '0').replaceAll(',', ''));
      assert.ok(l2Hits > 0, `no L2 hits in the second run:\n${second.stdout}`);
    } finally {
      await server.stop();
    }
  });

  it('lists its flags with --help and refuses a bad one', async () => {
    const help = await runDemo(['--help']);
    assert.equal(help.code, 0);
    for (const flag of [
      '--duration',
      '--restaurants',
      '--skew',
      '--concurrency',
      '--ttl',
      '--l1-entries',
      '--db',
      '--redis',
    ]) {
      assert.ok(help.stdout.includes(flag), `--help does not mention ${flag}`);
    }
    const bad = await runDemo(['--restaurants', 'many']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--restaurants must be a whole number/);
  });
});
