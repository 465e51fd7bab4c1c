/**
 * Invalidation from PostgreSQL itself (`tiercache/postgres`): logical decoding with the built-in
 * `pgoutput` plugin, over a publication of the mapped tables, through `pg-logical-replication` (an
 * optional peer). A `psql` UPDATE, a migration or another service's write reaches every cache as
 * surely as an application's own `delete` — Meta's mcsqueal, for PostgreSQL.
 *
 * The protocol, and why it loses nothing:
 * - **A replication slot** remembers the last position the consumer confirmed (`confirmed_flush_lsn`);
 *   after a restart or a crash PostgreSQL resends every transaction committed after it.
 * - **Acknowledge after applying.** Changes are collected from `begin` to `commit`, applied (every key
 *   and tag of the old and new row images, through the cache's `delete` / `invalidateTags`, so the shared
 *   tier's version moves and a load that read the old row cannot store it), and only then is the commit's
 *   end position confirmed. A crash between the two replays the transaction: deletes are idempotent. The
 *   library's own periodic acknowledgement would confirm what was *received*, so it is off; a keepalive
 *   is answered with the applied position, or with the server's sent position when nothing is pending
 *   (as PostgreSQL's own subscriber does) so that unrelated WAL does not pile up behind the slot.
 * - **One consumer per deployment, elected by the database.** A slot streams to one connection at a
 *   time; every instance runs a stream on the same slot, one gets it, the others retry every `retry`
 *   and the first to retry after the holder dies resumes from its last confirmation. Its invalidations
 *   reach the other instances' L1s over the cache's bus (Redis) — with Memcached and no bus, give each
 *   instance a slot of its own (each then applies every change itself).
 * - **Lag you can see.** `pg_current_wal_lsn() − confirmed_flush_lsn` is polled every `lagInterval`
 *   (`stats().lagBytes`); past `lagWarning` bytes the stream reports it (a slot nobody consumes keeps
 *   WAL on the database's disk), and `close({ dropSlot: true })` removes the slot when you retire it.
 *
 * Setup: `wal_level = logical`, a role with `REPLICATION` (and ownership of the tables, to create the
 * publication — or create it yourself: `CREATE PUBLICATION tiercache FOR TABLE menus, …`). An UPDATE's
 * old image holds the old key columns only when they changed; for keys or tags computed from other
 * columns, `ALTER TABLE … REPLICA IDENTITY FULL` so the old row's keys are invalidated too.
 */
import { EventEmitter } from 'node:events';
import type * as PgModule from 'pg';
import type * as Replication from 'pg-logical-replication';
import type { Cache } from '../cache/api.js';
import { ConfigError } from '../errors.js';
import { parseDuration } from '../options/validate.js';
import type { Duration } from '../options.js';
import { peer } from '../peer.js';
import { type ChangeStream, type ChangeStreamStats, CommitApplier } from './change-stream.js';
import type { TableMap } from './table-map.js';

/** Options of {@link createPostgresChangeStream}. */
export interface PostgresChangeStreamOptions {
  /** The cache (or namespace view) the changes invalidate. */
  readonly cache: Cache;
  /** A connection string, or node-postgres client options, for a role with the REPLICATION attribute. */
  readonly connection: string | PgModule.ClientConfig;
  /** The tables to watch and what their rows stand behind. */
  readonly tables: TableMap;
  /** The replication slot (shared by every instance of a deployment). Default: `'tiercache'`. */
  readonly slot?: string;
  /** The publication. Created over the mapped tables when missing. Default: `'tiercache'`. */
  readonly publication?: string;
  /** How often an instance that does not hold the slot tries again. Default: `'1s'`. */
  readonly retry?: Duration;
  /** How often the slot's lag is measured. Default: `'10s'`. */
  readonly lagInterval?: Duration;
  /** Report the lag past this many bytes of WAL kept for the slot. Default: 64 MiB. */
  readonly lagWarning?: number;
}

export type { ChangeStream, ChangeStreamEvents, ChangeStreamStats } from './change-stream.js';

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * Starts streaming committed changes of `tables` into invalidations of `cache`. Creates the slot and
 * the publication when missing.
 * @throws ConfigError for invalid options, or when `pg-logical-replication` / `pg` are not installed.
 */
export function createPostgresChangeStream(options: PostgresChangeStreamOptions): ChangeStream {
  const slot = identifier(options.slot ?? 'tiercache', 'slot');
  const publication = identifier(options.publication ?? 'tiercache', 'publication');
  const retryMs = parseDuration(options.retry ?? '1s', 'retry');
  const lagMs = parseDuration(options.lagInterval ?? '10s', 'lagInterval');
  const lagWarning = options.lagWarning ?? 64 * 1024 * 1024;
  if (!(lagWarning > 0)) throw new ConfigError('lagWarning', 'expected a positive number of bytes.');
  const tables = Object.keys(options.tables);
  if (tables.length === 0) throw new ConfigError('tables', 'map at least one table, e.g. { menus: { keys } }.');
  for (const table of tables) {
    for (const part of table.split('.')) identifier(part, 'tables');
  }
  const replication = peer<typeof Replication>('pg-logical-replication', 'createPostgresChangeStream');
  const { Client } = peer<typeof PgModule>('pg', 'createPostgresChangeStream');
  return new PostgresChangeStream(
    options,
    { slot, publication, retryMs, lagMs, lagWarning, tables },
    replication,
    Client,
  );
}

function identifier(value: unknown, option: string): string {
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    throw new ConfigError(
      option,
      `expected a lower-case SQL identifier (letters, digits, _), got ${JSON.stringify(value)}.`,
    );
  }
  return value;
}

interface Settings {
  readonly slot: string;
  readonly publication: string;
  readonly retryMs: number;
  readonly lagMs: number;
  readonly lagWarning: number;
  readonly tables: readonly string[];
}

type Message = Replication.Pgoutput.Message;

/** The start position that asks the server for the slot's own confirmed position. */
const START_AT_CONFIRMED = '0/00000000';

/** The position one byte before `lsn` ('0/0' stays). */
function byteBefore(lsn: string): string {
  const [high = '0', low = '0'] = lsn.split('/');
  const position = (BigInt(`0x${high}`) << 32n) + BigInt(`0x${low}`);
  if (position === 0n) return lsn;
  const before = position - 1n;
  return `${(before >> 32n).toString(16).toUpperCase()}/${(before & 0xffffffffn).toString(16).toUpperCase()}`;
}

class PostgresChangeStream extends EventEmitter implements ChangeStream {
  readonly #options: PostgresChangeStreamOptions;
  readonly #settings: Settings;
  readonly #service: Replication.LogicalReplicationService;
  readonly #plugin: Replication.PgoutputPlugin;
  readonly #Client: typeof PgModule.Client;
  readonly #applier: CommitApplier;
  #active = false;
  #closed = false;
  #confirmed: string | undefined;
  #lagBytes: number | undefined;
  #lagTimer: NodeJS.Timeout | undefined;
  /** Ends the wait before the next attempt (a follower's close must not wait out `retry`, or hang). */
  #wake: (() => void) | undefined;
  readonly #running: Promise<void>;
  #onStreaming: (() => void) | undefined;
  readonly #streaming: Promise<void>;

  constructor(
    options: PostgresChangeStreamOptions,
    settings: Settings,
    replication: typeof Replication,
    Client: typeof PgModule.Client,
  ) {
    super();
    this.#options = options;
    this.#settings = settings;
    this.#Client = Client;
    this.#streaming = new Promise((resolve) => {
      this.#onStreaming = resolve;
    });
    // No automatic acknowledgement and no library keepalive: both would confirm what was received.
    this.#service = new replication.LogicalReplicationService(this.#clientConfig(), {
      acknowledge: { auto: false, timeoutSeconds: 0 },
    });
    this.#plugin = new replication.PgoutputPlugin({ protoVersion: 1, publicationNames: [settings.publication] });
    this.#applier = new CommitApplier(
      options.cache,
      options.tables,
      this,
      (lsn) => this.#confirm(lsn),
      // The cache closed under the stream: close, so the slot goes to an instance whose cache is open.
      () => void this.close(),
    );
    this.#service.on('data', (_lsn: string, message: Message) => this.#receive(message));
    this.#service.on('heartbeat', (lsn: string, _time: number, shouldRespond: boolean) => {
      // Nothing pending: everything the server sent up to `lsn` is applied, so it may be confirmed.
      const idle = this.#applier.idle;
      if (idle) this.#confirm(lsn);
      else if (shouldRespond && this.#confirmed !== undefined) this.#confirm(this.#confirmed);
    });
    this.#service.on('start', () => {
      // A connection that close() could not end (it was still being opened) started streaming: end it.
      if (this.#closed) {
        void this.#service.stop().catch(() => undefined);
        return;
      }
      this.#active = true;
      this.#onStreaming?.();
    });
    this.#service.on('error', () => {}); // every failure also rejects subscribe(), reported there
    this.#running = this.#run();
    // Measured at once (how far behind the slot is at start), then every lagInterval.
    void this.#measureLag();
    this.#lagTimer = setInterval(() => {
      // Idle, ask the server for a keepalive: it is answered with the server's sent position, which
      // confirms the WAL that held nothing for us (else the slot would keep it until the next commit).
      if (this.#active && this.#confirmed !== undefined) this.#acknowledge(this.#confirmed, true);
      void this.#measureLag();
    }, settings.lagMs);
    this.#lagTimer.unref();
  }

  streaming(): Promise<void> {
    return this.#streaming;
  }

  stats(): ChangeStreamStats {
    return {
      ...this.#applier.counts,
      slot: this.#settings.slot,
      active: this.#active,
      confirmedLsn: this.#confirmed,
      lagBytes: this.#lagBytes,
    };
  }

  async close(options: { readonly dropSlot?: boolean } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#lagTimer);
    this.#wake?.();
    this.#applier.stop();
    // Only a stream that has started is ended here (so that subscribe() settles). One still being opened
    // is ended by the 'start' handler, or by #run when the server refuses it: the library's stop(), run
    // while its subscribe() connects, loses track of the new connection, which then stays open (and
    // streaming, so this close would wait forever). Not destroy() either: without the error listener,
    // the server's next restart would be an uncaught exception.
    if (this.#active) await this.#service.stop().catch(() => undefined);
    await this.#running;
    if (options.dropSlot) await this.#dropSlot();
  }

  /** Subscribe, and when the stream ends (or the slot is held elsewhere) try again until closed. */
  async #run(): Promise<void> {
    let reported = '';
    while (!this.#closed) {
      try {
        await this.#prepare();
        // From the slot's confirmed position ('0/0': the server's), not from the last position received,
        // which the library would use on a resubscribe and which may be past what was applied.
        if (!this.#closed) await this.#service.subscribe(this.#plugin, this.#settings.slot, START_AT_CONFIRMED);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        // The slot streaming to another instance is the normal state of a follower: not an error.
        const follower = /is active for PID/.test(message);
        if (!this.#closed && !follower && message !== reported) {
          reported = message;
          this.#report(new Error(`the PostgreSQL change stream stopped: ${message}; retrying`, { cause: error }));
        }
      }
      // subscribe() leaves its connection open when the server refuses the slot (a follower's every
      // attempt): end it here, every time, before a next attempt opens another.
      await this.#service.stop().catch(() => undefined);
      this.#active = false;
      this.#applier.abandon(); // a transaction cut off mid-way is resent from its begin
      if (this.#closed) break;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.#settings.retryMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Creates the publication and the slot when missing (several instances may race: both succeed). */
  async #prepare(): Promise<void> {
    const { slot, publication, tables } = this.#settings;
    await this.#withClient(async (client) => {
      const found = await client.query('SELECT 1 FROM pg_publication WHERE pubname = $1', [publication]);
      if (found.rowCount === 0) {
        await client
          .query(`CREATE PUBLICATION ${publication} FOR TABLE ${tables.join(', ')}`)
          .catch(ignore(/already exists/));
      }
      const slots = await client.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot]);
      if (slots.rowCount === 0) {
        await client
          .query(`SELECT pg_create_logical_replication_slot($1, 'pgoutput')`, [slot])
          .catch(ignore(/already exists/));
      }
    });
  }

  /** One pgoutput message: a transaction's boundary or one of its row changes. */
  #receive(message: Message): void {
    const applier = this.#applier;
    switch (message.tag) {
      case 'begin':
        applier.begin();
        return;
      case 'insert':
      case 'update':
      case 'delete': {
        const old = message.tag === 'insert' ? null : (message.old ?? message.key);
        applier.add({
          schema: message.relation.schema,
          table: message.relation.name,
          kind: message.tag,
          old: old ?? undefined,
          new: message.tag === 'delete' ? undefined : message.new,
        });
        return;
      }
      case 'truncate':
        for (const relation of message.relations) {
          applier.add({
            schema: relation.schema,
            table: relation.name,
            kind: 'truncate',
            old: undefined,
            new: undefined,
          });
        }
        return;
      case 'commit':
        applier.commit(message.commitEndLsn ?? message.commitLsn);
        return;
      default:
        return; // relation, type, origin, message: nothing to invalidate
    }
  }

  #confirm(lsn: string): void {
    this.#confirmed = lsn;
    this.#acknowledge(lsn, false);
  }

  /**
   * Tells the server everything before `lsn` is applied. The library reports the position it is given
   * plus one byte (it takes it for the last byte received); ours are ends (a commit's end, the server's
   * sent position), as PostgreSQL's own subscriber reports them. One byte too far matters: the server
   * skips, on the next start, a transaction whose COMMIT record begins before the confirmed position,
   * and a COMMIT can begin exactly where the server's sent position stood.
   */
  #acknowledge(lsn: string, ping: boolean): void {
    void this.#service.acknowledge(byteBefore(lsn), ping).catch(() => undefined);
  }

  async #measureLag(): Promise<void> {
    try {
      const lag = await this.#withClient(async (client) => {
        const { rows } = await client.query<{ lag: string | null }>(
          'SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::text AS lag FROM pg_replication_slots WHERE slot_name = $1',
          [this.#settings.slot],
        );
        return rows[0]?.lag == null ? undefined : Math.max(0, Number(rows[0].lag));
      });
      this.#lagBytes = lag;
      if (lag !== undefined && lag > this.#settings.lagWarning) {
        this.#report(
          new Error(
            `the replication slot ${this.#settings.slot} keeps ${lag} bytes of WAL (over lagWarning): ` +
              'is a consumer running? A slot nobody consumes fills the database disk; close({ dropSlot: true }) retires it.',
          ),
        );
      }
    } catch {
      // the database is unreachable: the stream reports that itself
    }
  }

  async #dropSlot(): Promise<void> {
    // The server releases the slot a moment after the stream's connection closes.
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        await this.#withClient((client) =>
          client.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1', [
            this.#settings.slot,
          ]),
        );
        return;
      } catch (error) {
        if (!/is active/.test(String(error))) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  async #withClient<R>(work: (client: PgModule.Client) => Promise<R>): Promise<R> {
    const client = new this.#Client(this.#clientConfig());
    client.on('error', () => {});
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  #clientConfig(): PgModule.ClientConfig {
    const connection = this.#options.connection;
    return typeof connection === 'string' ? { connectionString: connection } : connection;
  }

  #report(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}

/** A rejection handler that ignores errors matching `pattern` (a race another instance won). */
function ignore(pattern: RegExp): (error: unknown) => void {
  return (error) => {
    if (!pattern.test(String(error))) throw error;
  };
}
