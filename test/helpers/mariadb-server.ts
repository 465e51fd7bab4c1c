/**
 * A MariaDB server of a test's own with the ROW binlog on (the machine's server has no binlog):
 * `mariadb-install-db` into a temporary directory and `mariadbd --log-bin --binlog-format=ROW` on a free
 * port, run as the `mysql` user when the tests run as root. Root logs in over TCP without a password.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { freePort, killChild } from './redis-server.js';
import { serviceUser } from './system-user.js';

function installed(command: string): boolean {
  try {
    execFileSync('which', [command], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** `false` when the MariaDB server binaries are installed, else why the binlog tests are skipped. */
export const mariadbBinariesMissing: string | false =
  installed('mariadbd') && installed('mariadb-install-db')
    ? false
    : 'no MariaDB server binaries (mariadbd, mariadb-install-db; .ci/run installs them)';

/** One `mariadbd` process with its own data directory and binlog. */
export class MariadbServer {
  readonly port: number;
  readonly #dir: string;
  #process: ChildProcess | undefined;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.#dir = dir;
  }

  static async start(): Promise<MariadbServer> {
    const dir = mkdtempSync(join(tmpdir(), 'tiercache-mariadb-'));
    const owner = serviceUser('mysql');
    const user = owner !== undefined ? 'mysql' : (process.env.USER ?? 'mysql');
    if (owner !== undefined) chownSync(dir, owner.uid, owner.gid);
    execFileSync(
      'mariadb-install-db',
      [
        '--no-defaults',
        `--datadir=${join(dir, 'data')}`,
        `--user=${user}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
      ],
      { stdio: 'ignore' },
    );
    const server = new MariadbServer(await freePort(), dir);
    server.#process = spawn(
      'mariadbd',
      [
        '--no-defaults',
        `--datadir=${join(dir, 'data')}`,
        `--user=${user}`,
        `--port=${server.port}`,
        '--bind-address=127.0.0.1',
        `--socket=${join(dir, 'mariadb.sock')}`,
        `--pid-file=${join(dir, 'mariadb.pid')}`,
        `--log-bin=${join(dir, 'binlog')}`,
        '--binlog-format=ROW',
        '--binlog-row-metadata=FULL',
        '--server-id=1',
        '--skip-name-resolve',
        '--innodb-flush-log-at-trx-commit=2',
        '--sync-binlog=0',
      ],
      { stdio: 'ignore' },
    );
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await server.query('SELECT 1');
        await server.query('CREATE DATABASE IF NOT EXISTS app');
        return server;
      } catch (error) {
        if (Date.now() > deadline || server.#process.exitCode !== null) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  /** A connection URL for database `app` as root. */
  get url(): string {
    return `mysql://root@127.0.0.1:${this.port}/app`;
  }

  /** Runs one statement on a connection of its own. */
  async query(text: string, values?: unknown[]): Promise<unknown> {
    const connection = await mysql.createConnection({ host: '127.0.0.1', port: this.port, user: 'root' });
    try {
      const [rows] = await connection.query(text, values);
      return rows;
    } finally {
      await connection.end();
    }
  }

  async stop(): Promise<void> {
    await killChild(this.#process);
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
