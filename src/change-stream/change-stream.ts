/**
 * What every change stream (`tiercache/postgres`, `tiercache/mariadb`) is: its public shape, and the
 * part they share — collecting a transaction's row changes from its begin to its commit, applying every
 * committed transaction that has arrived as one batch, and confirming the last one's position to the
 * database only then (see `table-map.ts` for what applying does).
 */
import type { EventEmitter } from 'node:events';
import type { Cache } from '../cache/api.js';
import { type AppliedCounts, applyChanges, type RowChange, type TableMap } from './table-map.js';

/** A change stream's figures. */
export interface ChangeStreamStats extends Readonly<AppliedCounts> {
  /** The replication slot (PostgreSQL) or consumer name (MariaDB). */
  readonly slot: string;
  /** Whether this instance consumes now (it holds the slot, or the consumer's lock). */
  readonly active: boolean;
  /** The last position confirmed (an LSN; a GTID position). */
  readonly confirmedLsn: string | undefined;
  /** How far behind the consumer is, in bytes of WAL (PostgreSQL); `undefined` before a measurement. */
  readonly lagBytes: number | undefined;
}

/** Events of a change stream. */
export interface ChangeStreamEvents {
  /** Something went wrong and was absorbed (a lost connection, a rule that threw, growing lag). */
  error: (error: Error) => void;
  /** Committed transactions' invalidations were applied, and the last one's position confirmed. */
  applied: (info: { readonly lsn: string; readonly transactions: number; readonly changes: number }) => void;
}

/** A running change stream. */
export interface ChangeStream {
  /** Resolves once this instance consumes (holds the slot or the lock): for tests and readiness probes. */
  streaming(): Promise<void>;
  stats(): ChangeStreamStats;
  on<E extends keyof ChangeStreamEvents>(event: E, listener: ChangeStreamEvents[E]): this;
  off<E extends keyof ChangeStreamEvents>(event: E, listener: ChangeStreamEvents[E]): this;
  /**
   * Stops consuming; with `dropSlot` (PostgreSQL), also removes the slot, retiring the consumer. A stream
   * whose cache is closed closes itself (with an `error` event), so another instance takes over.
   */
  close(options?: { readonly dropSlot?: boolean }): Promise<void>;
}

/**
 * Collects transactions and applies them in batches: `begin`, `add`, `commit(position)`. Everything
 * committed that has arrived is applied at once (one round of deletes, one wait for the bus) and the last
 * position confirmed — one transaction at a time would cap the stream at one Redis round trip per commit.
 */
export class CommitApplier {
  readonly counts: AppliedCounts = { transactions: 0, changes: 0, keys: 0, tags: 0, clears: 0 };
  /** Committed transactions not yet applied, in commit order. */
  readonly #committed: { readonly changes: readonly RowChange[]; readonly position: string }[] = [];
  #open: RowChange[] | undefined;
  #draining = false;
  #stopped = false;

  constructor(
    private readonly cache: Cache,
    private readonly tables: TableMap,
    private readonly events: EventEmitter,
    /**
     * Confirms a position to the database (after its transaction and all before it were applied);
     * `changes` is how many row changes the batch held (0: only transactions of other tables).
     */
    private readonly confirm: (position: string, changes: number) => void | Promise<void>,
    /** The cache closed mid-batch: nothing more is confirmed; the stream closes (and lets another lead). */
    private readonly failed: () => void,
  ) {}

  /** Whether nothing is open, waiting or being applied: all received is applied. */
  get idle(): boolean {
    return this.#open === undefined && this.#committed.length === 0 && !this.#draining;
  }

  begin(): void {
    this.#open = [];
  }

  add(change: RowChange): void {
    this.#open?.push(change);
  }

  commit(position: string | null): void {
    const changes = this.#open ?? [];
    this.#open = undefined;
    if (position === null) return;
    this.#committed.push({ changes, position });
    void this.#drain();
  }

  /** The stream was cut: an open transaction is resent from its begin by whoever streams next. */
  abandon(): void {
    this.#open = undefined;
  }

  /** Stops applying (the stream is closing or the cache closed); what is left is not confirmed. */
  stop(): void {
    this.#stopped = true;
    this.#committed.length = 0;
  }

  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#committed.length > 0 && !this.#stopped) {
        const batch = this.#committed.splice(0);
        const changes = batch.flatMap((transaction) => transaction.changes);
        try {
          await applyChanges(this.cache, this.tables, changes, this.counts, batch.length, (error) =>
            this.#report(error),
          );
        } catch (error) {
          this.#report(error instanceof Error ? error : new Error(String(error)));
          this.stop();
          this.failed();
          return;
        }
        const position = (batch.at(-1) as { position: string }).position;
        await this.confirm(position, changes.length);
        this.events.emit('applied', { lsn: position, transactions: batch.length, changes: changes.length });
      }
    } finally {
      this.#draining = false;
    }
  }

  #report(error: Error): void {
    if (this.events.listenerCount('error') > 0) this.events.emit('error', error);
  }
}
