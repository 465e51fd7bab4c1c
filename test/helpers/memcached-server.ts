/**
 * Real Memcached servers for integration tests: each test file starts its own `memcached` processes on
 * free ports and stops them by pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { freePort, killChild } from './redis-server.js';

const READY_TIMEOUT_MS = 10_000;

/** One memcached process. */
export class MemcachedServer {
  readonly port: number;
  readonly #extra: string[];
  #process: ChildProcess | undefined;

  private constructor(port: number, extra: string[]) {
    this.port = port;
    this.#extra = extra;
  }

  /** Starts a server on a free port (`extra` goes to memcached) and waits until it answers. */
  static async start(extra: string[] = []): Promise<MemcachedServer> {
    const server = new MemcachedServer(await freePort(), extra);
    await server.restart();
    return server;
  }

  /** `host:port`, as the tier's `servers` option takes it. */
  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port, empty. */
  async restart(): Promise<void> {
    // -u root: memcached refuses to run as root otherwise (CI runs as root); harmless as another user.
    const user = process.getuid?.() === 0 ? ['-u', 'root'] : [];
    this.#process = spawn(
      'memcached',
      [...user, '-p', String(this.port), '-U', '0', '-l', '127.0.0.1', ...this.#extra],
      {
        stdio: 'ignore',
      },
    );
    // A missing binary fails at once with the reason, not after the ready timeout (or as an uncaught error).
    let failed: Error | undefined;
    this.#process.once('error', (error) => {
      failed = error;
    });
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (failed !== undefined) throw new Error(`memcached could not start: ${failed.message}`);
      if ((await this.command('mn').catch(() => '')).startsWith('MN')) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`memcached on ${this.port} did not start`);
  }

  /**
   * Sends one raw protocol command (CRLF added) and resolves with the reply: up to `END` for `stats` and
   * `lru_crawler metadump`, else its first line (and value).
   */
  command(line: string): Promise<string> {
    const multi = /^(stats|lru_crawler)/.test(line);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: this.port });
      let reply = '';
      socket.once('error', reject);
      socket.on('data', (data) => {
        reply += data.toString('latin1');
        if (multi ? /(^|\n)END\r\n$/.test(reply) : reply.endsWith('\r\n')) {
          socket.destroy();
          resolve(reply);
        }
      });
      socket.write(`${line}\r\n`);
    });
  }

  /** Kills the process at once (SIGKILL), as a crash would. */
  kill(): Promise<void> {
    return killChild(this.#process);
  }

  async stop(): Promise<void> {
    await this.kill();
  }
}
