/**
 * Invalidation from MySQL / MariaDB itself (`tiercache/mariadb`): the ROW-format binlog, read as a
 * replica would through `@vlasky/zongji` (an optional peer, over `mysql2`), turned into invalidations of
 * keys and tags — Meta's mcsqueal, which reads exactly this log.
 *
 * The binlog has no replication slot, so the two things a slot gives PostgreSQL are built here:
 * - **The position** — the GTID of the last transaction applied, per replication domain — is kept in a
 *   table of the database itself (`tiercache_binlog`, one row per consumer), written only after the
 *   transaction's invalidations were applied and sent on the bus. A restarted or new consumer resumes
 *   from it (`@slave_connect_state`: the server skips what was applied); a crash between applying and
 *   writing replays a transaction, and deletes are idempotent. The first start has no position and
 *   begins at the end of the binlog.
 * - **One consumer per deployment**: `GET_LOCK('tiercache_binlog:<consumer>')`, held by a connection of
 *   the consumer's own. The server frees it when that connection dies, and the next instance to retry
 *   takes over from the stored position.
 *
 * Setup: `log_bin`, `binlog_format = ROW`, `binlog_row_image = FULL` (the default; the old row's keys
 * come from it) and, on MariaDB ≥ 10.5 or MySQL 8, `binlog_row_metadata = FULL` (column names from the
 * log itself, no schema queries); a user with `REPLICATION SLAVE, REPLICATION CLIENT` and the right to
 * create and write the position table. The binlog is kept by `expire_logs_days` /
 * `binlog_expire_logs_seconds`, not by the consumer: a consumer down for longer loses its place — the
 * stream then reports the error, and clearing the cache is the way back.
 */
import { EventEmitter } from 'node:events';
import type * as Mysql from 'mysql2/promise';
import type { Cache } from '../cache/api.js';
import { ConfigError } from '../errors.js';
import { parseDuration } from '../options/validate.js';
import type { Duration } from '../options.js';
import { peer } from '../peer.js';
import { type ChangeStream, type ChangeStreamStats, CommitApplier } from './change-stream.js';
import type { Row, TableMap } from './table-map.js';

export type { ChangeStream, ChangeStreamEvents, ChangeStreamStats } from './change-stream.js';

/** Options of {@link createBinlogChangeStream}. */
export interface BinlogChangeStreamOptions {
  /** The cache (or namespace view) the changes invalidate. */
  readonly cache: Cache;
  /** A `mysql://user:password@host:port/database` URL; the database is where unqualified tables live. */
  readonly connection: string;
  /** The tables to watch (`menus`, or `database.menus`) and what their rows stand behind. */
  readonly tables: TableMap;
  /** The consumer's name: its lock and its row in the position table. Default: `'tiercache'`. */
  readonly consumer?: string;
  /** How often an instance that does not hold the lock tries again. Default: `'1s'`. */
  readonly retry?: Duration;
}

/** What this module uses of zongji (an optional peer without types of its own for CommonJS). */
interface ZongJiLike extends EventEmitter {
  start(options: Record<string, unknown>): void;
  stop(): void;
}
interface BinlogEvent {
  getEventName(): string;
  gtid?: string;
  domainId?: number;
  tableId?: number;
  tableMap?: Record<number, { parentSchema: string; tableName: string }>;
  rows?: (Row | { before: Row; after: Row })[];
  query?: string;
}

const NAME = /^[A-Za-z0-9_]{1,64}$/;
const POSITION_TABLE = 'tiercache_binlog';
/** How often a position is stored when only other tables' transactions passed. */
const IDLE_STORE_MS = 5_000;

/**
 * Starts consuming the binlog of `connection` into invalidations of `cache`. Creates the position table
 * when missing.
 * @throws ConfigError for invalid options, or when `@vlasky/zongji` / `mysql2` are not installed.
 */
export function createBinlogChangeStream(options: BinlogChangeStreamOptions): ChangeStream {
  const consumer = options.consumer ?? 'tiercache';
  if (!NAME.test(consumer))
    throw new ConfigError('consumer', `expected 1–64 letters, digits or _, got ${JSON.stringify(consumer)}.`);
  const retryMs = parseDuration(options.retry ?? '1s', 'retry');
  let url: URL;
  try {
    url = new URL(options.connection);
    if (url.protocol !== 'mysql:' && url.protocol !== 'mariadb:') throw new Error(url.protocol);
  } catch {
    throw new ConfigError('connection', 'expected a URL such as mysql://user:password@127.0.0.1:3306/app.');
  }
  const database = decodeURIComponent(url.pathname.slice(1));
  if (!NAME.test(database)) throw new ConfigError('connection', 'the URL must name the database (…/app).');
  const include: Record<string, string[]> = {};
  for (const table of Object.keys(options.tables)) {
    const [schema, name] = table.includes('.') ? (table.split('.') as [string, string]) : [database, table];
    if (!NAME.test(schema) || !NAME.test(name))
      throw new ConfigError('tables', `not a table name: ${JSON.stringify(table)}.`);
    include[schema] = [...(include[schema] ?? []), name];
  }
  if (Object.keys(include).length === 0)
    throw new ConfigError('tables', 'map at least one table, e.g. { menus: { keys } }.');
  const ZongJi = peer<{ default: new (connection: Record<string, unknown>) => ZongJiLike }>(
    '@vlasky/zongji',
    'createBinlogChangeStream',
  ).default;
  const mysql = peer<typeof Mysql>('mysql2/promise', 'createBinlogChangeStream');
  const access = {
    host: url.hostname,
    port: Number(url.port || 3306),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database,
  };
  return new BinlogChangeStream(options, { consumer, retryMs, include, access }, ZongJi, mysql);
}

interface Settings {
  readonly consumer: string;
  readonly retryMs: number;
  readonly include: Record<string, string[]>;
  readonly access: { host: string; port: number; user: string; password: string; database: string };
}

class BinlogChangeStream extends EventEmitter implements ChangeStream {
  readonly #settings: Settings;
  readonly #ZongJi: new (
    connection: Record<string, unknown>,
  ) => ZongJiLike;
  readonly #mysql: typeof Mysql;
  readonly #applier: CommitApplier;
  /** The last GTID applied per replication domain: the stored position. */
  readonly #applied = new Map<number, string>();
  /** The GTID of the transaction being received. */
  #current: { domain: number; gtid: string } | undefined;
  #control: Mysql.Connection | undefined;
  #zongji: ZongJiLike | undefined;
  #active = false;
  #closed = false;
  #confirmed: string | undefined;
  #storedAt = Number.NEGATIVE_INFINITY;
  #onStreaming: (() => void) | undefined;
  readonly #streaming: Promise<void>;
  readonly #running: Promise<void>;
  #wake: (() => void) | undefined;

  constructor(
    options: BinlogChangeStreamOptions,
    settings: Settings,
    ZongJi: new (connection: Record<string, unknown>) => ZongJiLike,
    mysql: typeof Mysql,
  ) {
    super();
    this.#settings = settings;
    this.#ZongJi = ZongJi;
    this.#mysql = mysql;
    this.#streaming = new Promise((resolve) => {
      this.#onStreaming = resolve;
    });
    this.#applier = new CommitApplier(
      options.cache,
      options.tables,
      this,
      (position, changes) => this.#store(position, changes),
      // The cache closed under the stream: close, so the lock goes to an instance whose cache is open.
      () => void this.close(),
    );
    this.#running = this.#run();
  }

  streaming(): Promise<void> {
    return this.#streaming;
  }

  stats(): ChangeStreamStats {
    return {
      ...this.#applier.counts,
      slot: this.#settings.consumer,
      active: this.#active,
      confirmedLsn: this.#confirmed,
      lagBytes: undefined,
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#applier.stop();
    this.#wake?.();
    await this.#running;
  }

  /** Take the lock, stream until the connection or the stream fails, let go, and try again. */
  async #run(): Promise<void> {
    let reported = '';
    while (!this.#closed) {
      try {
        // A close() while the lock was being taken finds nothing to wake yet: do not start streaming.
        if ((await this.#lead()) && !this.#closed) {
          await this.#consume();
          reported = '';
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        if (!this.#closed && message !== reported) {
          reported = message;
          this.#report(new Error(`the binlog change stream stopped: ${message}; retrying`, { cause: error }));
        }
      }
      this.#active = false;
      this.#applier.abandon();
      this.#zongji?.stop();
      this.#zongji = undefined;
      await this.#control?.end().catch(() => undefined);
      this.#control = undefined;
      if (this.#closed) break;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, this.#settings.retryMs).unref();
      });
    }
  }

  /** Connects, makes the position table, and takes the consumer's lock. @returns whether it leads. */
  async #lead(): Promise<boolean> {
    const control = await this.#mysql.createConnection(this.#settings.access);
    this.#control = control;
    control.on('error', () => {});
    await control.query(
      `CREATE TABLE IF NOT EXISTS ${POSITION_TABLE} (consumer VARCHAR(64) PRIMARY KEY, position TEXT NOT NULL)`,
    );
    // Keep the position writes out of the binlog where the user may (else see #store).
    await control.query('SET SESSION sql_log_bin = 0').catch(() => undefined);
    const [rows] = await control.query('SELECT GET_LOCK(?, 0) AS held', [
      `${POSITION_TABLE}:${this.#settings.consumer}`,
    ]);
    return (rows as { held: number | null }[])[0]?.held === 1;
  }

  /** Streams from the stored position until the stream fails or the stream is closed. */
  async #consume(): Promise<void> {
    const control = this.#control as Mysql.Connection;
    const [rows] = await control.query(`SELECT position FROM ${POSITION_TABLE} WHERE consumer = ?`, [
      this.#settings.consumer,
    ]);
    const stored = (rows as { position: string }[])[0]?.position;
    this.#applied.clear();
    for (const gtid of stored?.split(',') ?? []) this.#applied.set(Number(gtid.split('-')[0]), gtid);
    const zongji = new this.#ZongJi({ ...this.#settings.access });
    this.#zongji = zongji;
    await new Promise<void>((resolve, reject) => {
      zongji.on('error', (error: Error) => reject(error));
      zongji.on('ready', () => {
        this.#active = true;
        this.#onStreaming?.();
      });
      zongji.on('binlog', (event: BinlogEvent) => this.#receive(event));
      // The control connection holds the lock: if it dies, so does the lead.
      control.on('end', () => reject(new Error('the connection holding the lock closed')));
      this.#wake = () => resolve();
      if (this.#closed) {
        resolve(); // closed while the position was read: its wake came before this one was set
        return;
      }
      zongji.start({
        serverId: 1_000_000 + Math.floor(Math.random() * 1_000_000_000),
        includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows', 'mariadbgtid', 'gtid', 'xid', 'query'],
        includeSchema: this.#settings.include,
        ...(stored === undefined ? { startAtEnd: true } : { gtidSet: stored }),
      });
    });
  }

  /** One binlog event: a transaction's boundary or its row changes. */
  #receive(event: BinlogEvent): void {
    const applier = this.#applier;
    const name = event.getEventName();
    if (name === 'mariadbgtid' || name === 'gtid') {
      this.#current = { domain: event.domainId ?? 0, gtid: event.gtid as string };
      applier.begin();
      return;
    }
    if (name === 'xid' || (name === 'query' && event.query === 'COMMIT')) {
      applier.commit(this.#positionAfter());
      return;
    }
    if (name !== 'writerows' && name !== 'updaterows' && name !== 'deleterows') return;
    const table = event.tableMap?.[event.tableId as number];
    if (table === undefined) return;
    for (const row of event.rows ?? []) {
      const pair = row as { before?: Row; after?: Row };
      applier.add({
        schema: table.parentSchema,
        table: table.tableName,
        kind: name === 'writerows' ? 'insert' : name === 'updaterows' ? 'update' : 'delete',
        old: name === 'writerows' ? undefined : name === 'updaterows' ? pair.before : (row as Row),
        new: name === 'deleterows' ? undefined : name === 'updaterows' ? pair.after : (row as Row),
      });
    }
  }

  /** The position after the transaction being received: the stored one with its GTID in its domain. */
  #positionAfter(): string | null {
    const current = this.#current;
    if (current === undefined) return null;
    this.#current = undefined;
    this.#applied.set(current.domain, current.gtid);
    return [...this.#applied.values()].join(',');
  }

  /**
   * Stores the position once its transactions were applied (and sent on the bus). A batch of other
   * tables' transactions only is stored at most every 5 s: storing is itself a transaction in the binlog
   * (unless `sql_log_bin` could be turned off), which would otherwise call for another store, forever.
   */
  async #store(position: string, changes: number): Promise<void> {
    const control = this.#control;
    if (control === undefined) return;
    if (changes === 0 && performance.now() - this.#storedAt < IDLE_STORE_MS) return;
    this.#storedAt = performance.now();
    try {
      await control.query(
        `INSERT INTO ${POSITION_TABLE} (consumer, position) VALUES (?, ?) ON DUPLICATE KEY UPDATE position = VALUES(position)`,
        [this.#settings.consumer, position],
      );
      this.#confirmed = position;
    } catch (error) {
      // Not stored: a restart replays from the previous position (deletes are idempotent).
      this.#report(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #report(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}
