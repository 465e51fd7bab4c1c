/**
 * A PostgreSQL server of a test's own, for logical decoding (`wal_level=logical`, which the machine's
 * server does not have): `initdb` into a temporary directory and `postgres` on a free port, as the
 * `postgres` user when the tests run as root (PostgreSQL refuses root). Debian keeps the binaries off the
 * PATH; `pg_config --bindir` finds them.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, killChild } from './redis-server.js';
import { serviceUser } from './system-user.js';

/** Where the server binaries are, or `undefined` without a PostgreSQL installation. */
function binDir(): string | undefined {
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim();
    return existsSync(join(dir, 'initdb')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

const BIN = binDir();
/** `false` when `initdb` and `postgres` are installed, else why the change-stream tests are skipped. */
export const postgresBinariesMissing: string | false =
  BIN === undefined ? 'no PostgreSQL server binaries (pg_config --bindir; .ci/run installs them)' : false;

/** One `postgres` process with its own data directory. */
export class PostgresServer {
  readonly port: number;
  readonly #dir: string;
  #process: ChildProcess | undefined;

  private constructor(port: number, dir: string) {
    this.port = port;
    this.#dir = dir;
  }

  /** Initialises a cluster (trust authentication) and starts it; resolves once it accepts queries. */
  static async start(settings: Record<string, string> = {}): Promise<PostgresServer> {
    if (BIN === undefined) throw new Error(postgresBinariesMissing as string);
    const dir = mkdtempSync(join(tmpdir(), 'tiercache-pg-'));
    const user = serviceUser('postgres');
    if (user !== undefined) chownSync(dir, user.uid, user.gid);
    execFileSync(join(BIN, 'initdb'), ['-D', join(dir, 'data'), '-A', 'trust', '-U', 'postgres', '--no-sync'], {
      stdio: 'ignore',
      ...(user ?? {}),
    });
    const server = new PostgresServer(await freePort(), dir);
    await server.#launch(settings);
    return server;
  }

  /** A connection string for database `postgres`. */
  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  /** Runs one statement on a connection of its own. */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<R[]> {
    const client = new pg.Client({ connectionString: this.url });
    await client.connect();
    try {
      return (await client.query<R>(text, values)).rows;
    } finally {
      await client.end();
    }
  }

  async stop(): Promise<void> {
    await killChild(this.#process);
    rmSync(this.#dir, { recursive: true, force: true });
  }

  async #launch(settings: Record<string, string>): Promise<void> {
    const options = {
      wal_level: 'logical',
      max_replication_slots: '10',
      max_wal_senders: '10',
      // No fsync (a test's data need not survive a power cut); commits still flush the WAL at once, as in
      // production — with synchronous_commit off the walsender would see them in 200 ms bursts.
      fsync: 'off',
      full_page_writes: 'off',
      listen_addresses: '127.0.0.1',
      unix_socket_directories: this.#dir,
      ...settings,
    };
    const args = ['-D', join(this.#dir, 'data'), '-p', String(this.port)];
    for (const [name, value] of Object.entries(options)) args.push('-c', `${name}=${value}`);
    this.#process = spawn(join(BIN as string, 'postgres'), args, {
      stdio: 'ignore',
      ...(serviceUser('postgres') ?? {}),
    });
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        await this.query('SELECT 1');
        return;
      } catch (error) {
        if (Date.now() > deadline || this.#process.exitCode !== null) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }
}
