/** A Redis tier's start-up and shutdown leave nothing behind, whatever state its connection is in. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort, RedisServer } from '../helpers/redis-server.js';

const WORKER = fileURLToPath(new URL('../helpers/close-worker.ts', import.meta.url));

describe('Redis tier lifecycle', () => {
  let server: RedisServer;
  before(async () => {
    server = await RedisServer.start();
  });
  after(async () => {
    await server.stop();
  });

  it('close() right after creation, a rejected option and a double close leave no handle: the process exits', async () => {
    const dead = `redis://127.0.0.1:${await freePort()}`;
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, server.url, dead], { stdio: 'pipe' });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    const code = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve('still running after 10 s');
      }, 10_000);
      child.on('exit', (exitCode) => {
        clearTimeout(timer);
        resolve(exitCode ?? -1);
      });
    });
    assert.equal(code, 0, output);
    assert.match(output, /closed/);
  });
});
