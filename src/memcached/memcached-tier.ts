/**
 * The Memcached shared tier: Meta's middle layer (an in-process L1, a regional Memcached pool, then the
 * database), over the meta protocol (`meta-connection.ts`), a ketama pool with a gutter (`pool.ts`),
 * generations for `clear()` (`generations.ts`) and a collision-free key mapping (`key-map.ts`).
 *
 * **Versions are CAS values.** Every item change moves its CAS, so the CAS read before a load is the
 * key's version: a load stores with compare-and-swap (`ms … C<cas>`) and is refused if anything wrote
 * the key since. A key that is absent has version `'0'` and a load of it stores with add-only
 * (`ms … ME`). So a delete must leave something behind: it writes a **tombstone** (an empty item, kept
 * ten minutes), which moves the CAS and makes an add fail — a load that read the database before the
 * delete can never land after it.
 *
 * **Leases are the lock** (Nishtala et al., NSDI 2013, §3.2.1). `tryLock` turns an absent key or a
 * tombstone into a lease item (`'L'`, TTL = the lock's) with add or compare-and-swap; whoever's write
 * succeeds holds the lease, and the lease's CAS is the fencing token. The holder stores with
 * compare-and-swap on that token, so a holder that stalled past its lease — or whose key was deleted,
 * or whose lease someone else took after it lapsed — is refused. Extending the lease rewrites it under
 * compare-and-swap (the token moves with it); releasing it without a store turns it back into a
 * tombstone, never into nothing (see above). Waiters poll the key until the lease turns into a value (or
 * goes), a few ms apart: Memcached has no notifications.
 *
 * **What Memcached cannot do**, and what happens instead: no pub/sub, so without an `invalidation` bus
 * (a Redis tier's, say) an L1 copy counts as fresh for `l1Freshness` at most (default 5 s) — the bound
 * on how long another instance's write can go unseen; no tags across instances (tags live in each
 * instance's L1); no key listing, so `clear()` moves a generation (`generations.ts`).
 *
 * **Hot keys** are read from their owner or the next two servers on the continuum (mcrouter's replicated
 * pools): a copy is filled add-only from the owner and lives 2 s; a write tombstones the copies for those
 * 2 s, so a reader that read the owner before the write cannot put the old value back. Only an instance
 * that sees the key as hot tombstones its copies; elsewhere a copy can lag a write by 2 s at most.
 */
import { decodeCounted, type Envelope, encodeEnvelope, type ReadCounters } from '../entry.js';
import { TierUnavailableError, ValueTooLargeError } from '../errors.js';
import type { CallCounters } from '../guard/guarded-calls.js';
import { parseDuration } from '../options/validate.js';
import type { Clock, Duration } from '../options.js';
import type { BusEvent, InvalidationBus, InvalidationMessage, LockHandle, SharedTier } from '../tier.js';
import { type GenerationStore, Generations } from './generations.js';
import { checkMemcachedPrefix, memcachedKey } from './key-map.js';
import { Lease } from './lease.js';
import { flagToken, type MetaReply, MetaReplyError } from './meta-connection.js';
import { EMPTY, Pool, type PoolServer, type Route, type ServerAddress, TOMBSTONE_TTL_S, unexpected } from './pool.js';

/** Options of {@link createMemcachedTier}. */
export interface MemcachedTierOptions {
  /** The pool: `'host:port'`, `'host:port:weight'`, or `{ host, port, weight }`. */
  servers: readonly ServerAddress[];
  /** Spare servers that take a down server's keys, with a short TTL (Meta's gutter). Default: none. */
  gutter?: readonly ServerAddress[];
  /** Longest an entry lives in the gutter. Default: `'10s'`. */
  gutterTtl?: Duration;
  /** Prefix of every key. Default: `'tiercache:'`. Characters from `A-Z a-z 0-9 _ . : / @ -`. */
  prefix?: string;
  /** Longest any call may take. Default: `'500ms'`. */
  timeout?: Duration;
  /** Consecutive failures that mark a server down (its breaker opens). Default: `5`. */
  breakerFailures?: number;
  /** How long a down server is left alone before a trial call. Default: `'5s'`. */
  breakerOpen?: Duration;
  /**
   * Largest encoded entry stored, in bytes. Default: 1 MiB less 1 KiB (memcached's default item limit,
   * `-I 1m`, counts the key and item header too). Larger values are refused and counted, never cut.
   */
  maxEntryBytes?: number;
  /** How soon another instance's `clear()` reaches this one (generations re-read). Default: `'1s'`. */
  clearCheck?: Duration;
  /**
   * A bus that carries invalidations between instances (for example a Redis tier's: `createRedisTier`),
   * since Memcached has none. Without one, `l1Freshness` bounds staleness.
   */
  invalidation?: InvalidationBus;
  /**
   * Without an `invalidation` bus: how long an L1 copy of a Memcached entry counts as fresh at most, the
   * longest another instance's write can go unseen here. Default: `'5s'`.
   */
  l1Freshness?: Duration;
  /** How often a waiter looks whether a lease holder stored its value. Default: `'5ms'`. */
  leasePoll?: Duration;
  /** Clock for the breakers. Default: `Date.now`. */
  clock?: Clock;
}

/** Counters of a {@link MemcachedTier}. */
export interface MemcachedTierCounters extends CallCounters, ReadCounters {
  /** Values the server refused as too large. */
  refused: number;
  /** Calls that went to the gutter in place of a down server. */
  gutter: number;
}

const DEFAULTS = {
  prefix: 'tiercache:',
  timeout: '500ms',
  breakerFailures: 5,
  breakerOpen: '5s',
  gutterTtl: '10s',
  maxEntryBytes: 1024 * 1024 - 1024,
  clearCheck: '1s',
  l1Freshness: '5s',
  leasePoll: '5ms',
};

/** A lease item's value: one byte, so that it never decodes as an entry. */
const LEASE = Buffer.from('L');
/** Servers a hot key is read from: its owner and the next two on the continuum. */
const HOT_COPIES = 3;
/** Longest a hot key's copy lives, and its tombstone after a write. */
const COPY_TTL_S = 2;
/** Memcached reads a TTL over 30 days as an absolute Unix time. */
const RELATIVE_TTL_MAX_S = 30 * 24 * 3600;

/** The Memcached shared tier. Create it with {@link createMemcachedTier}. */
export class MemcachedTier implements SharedTier {
  readonly name = 'memcached';
  readonly counters: MemcachedTierCounters = {
    hits: 0,
    misses: 0,
    corrupt: 0,
    errors: 0,
    timeouts: 0,
    refused: 0,
    gutter: 0,
  };
  /** Without a bus, how long an L1 copy counts as fresh at most (the cache reads this). */
  readonly l1FreshnessMs: number | undefined;
  readonly publishInvalidation?: (message: InvalidationMessage) => void;
  readonly onInvalidation?: (handler: (event: BusEvent) => void, origin?: string) => () => void;
  readonly invalidationsSent?: () => Promise<void>;
  readonly #pool: Pool;
  readonly #prefix: string;
  readonly #maxBytes: number;
  readonly #gutterTtlS: number;
  readonly #pollMs: number;
  readonly #generations: Generations;
  readonly #clock: Clock;
  /** This instance's hot keys (physical), as the cache last reported them. */
  #hot: ReadonlySet<string> = new Set();

  constructor(options: MemcachedTierOptions) {
    this.#prefix = checkMemcachedPrefix(options.prefix ?? DEFAULTS.prefix);
    this.#maxBytes = options.maxEntryBytes ?? DEFAULTS.maxEntryBytes;
    this.#gutterTtlS = Math.max(
      1,
      Math.ceil(parseDuration(options.gutterTtl ?? DEFAULTS.gutterTtl, 'gutterTtl') / 1000),
    );
    this.#pollMs = parseDuration(options.leasePoll ?? DEFAULTS.leasePoll, 'leasePoll');
    this.#clock = options.clock ?? { now: Date.now };
    const bus = options.invalidation;
    if (bus !== undefined) {
      this.publishInvalidation = (message) => bus.publishInvalidation(message);
      this.onInvalidation = (handler, origin) => bus.onInvalidation(handler, origin);
      this.invalidationsSent = () => bus.invalidationsSent?.() ?? Promise.resolve();
    }
    this.l1FreshnessMs =
      bus === undefined ? parseDuration(options.l1Freshness ?? DEFAULTS.l1Freshness, 'l1Freshness') : undefined;
    this.#pool = new Pool(
      {
        servers: options.servers,
        gutter: options.gutter ?? [],
        timeoutMs: parseDuration(options.timeout ?? DEFAULTS.timeout, 'timeout'),
        breakerFailures: options.breakerFailures ?? DEFAULTS.breakerFailures,
        breakerOpenMs: parseDuration(options.breakerOpen ?? DEFAULTS.breakerOpen, 'breakerOpen'),
        clock: this.#clock,
      },
      this.counters,
    );
    const store: GenerationStore = {
      // `ma` with N0 creates a missing counter (no expiry) at J: the current time, so a lost generation
      // comes back higher, never as a value it had before. D0 reads; the default delta (1) moves it.
      read: (prefix) => this.#counter(prefix, 'D0 '),
      bump: (prefix) => this.#counter(prefix, ''),
    };
    this.#generations = new Generations(store, parseDuration(options.clearCheck ?? DEFAULTS.clearCheck, 'clearCheck'));
  }

  /** The pool's servers and whether each is down now. */
  get servers(): { readonly name: string; readonly down: boolean; readonly gutter: boolean }[] {
    return [
      ...this.#pool.servers.map((s) => ({ name: s.name, down: s.down, gutter: false })),
      ...this.#pool.gutter.map((s) => ({ name: s.name, down: s.down, gutter: true })),
    ];
  }

  get(key: string): Promise<Envelope | undefined> {
    return this.#withKey(key, (mapped, route) => {
      if (this.#hot.size > 0 && this.#hot.has(key)) return this.#getHot(key, mapped, route);
      return route.server.request('mg', key, `mg ${mapped} v`).then((reply) => this.#decode(reply));
    });
  }

  /** The keys this instance reads hot now (physical): their reads spread over copies (see the module doc). */
  setHotKeys(keys: readonly string[]): void {
    this.#hot = new Set(keys);
  }

  /**
   * A hot key's read: the owner or one of its copies (the next servers on the continuum), at random. A
   * copy that is missing (or a tombstone, or its server failing) is read from the owner and repaired,
   * add-only, with a short TTL — so it never overwrites the tombstone a write left.
   */
  async #getHot(key: string, mapped: string, route: Route): Promise<Envelope | undefined> {
    const servers = this.#pool.replicas(mapped, HOT_COPIES);
    const pick = servers[Math.floor(Math.random() * servers.length)] as PoolServer;
    if (route.standingInFor !== undefined || pick === route.server) {
      return this.#decode(await route.server.request('mg', key, `mg ${mapped} v`));
    }
    const copy = await pick.request('mg copy', key, `mg ${mapped} v`).catch(() => undefined);
    if (copy?.code === 'VA' && (copy.value as Buffer).length > 1) {
      const envelope = this.#decode(copy);
      if (envelope !== undefined) return envelope;
    }
    const owner = await route.server.request('mg', key, `mg ${mapped} v`);
    const envelope = this.#decode(owner);
    if (envelope !== undefined && copy?.code === 'EN') {
      const ttl = Math.min(COPY_TTL_S, Math.ceil((envelope.expiresAt - Date.now()) / 1000));
      if (ttl > 0) {
        void pick
          .request('ms copy', key, `ms ${mapped} ${(owner.value as Buffer).length} T${ttl} ME`, owner.value)
          .catch(() => undefined);
      }
    }
    return envelope;
  }

  /** After a write to a hot key: tombstones its copies for their lifetime, so none serves the old value. */
  async #tombstoneCopies(key: string, mapped: string, route: Route): Promise<void> {
    if (this.#hot.size === 0 || !this.#hot.has(key) || route.standingInFor !== undefined) return;
    const copies = this.#pool.replicas(mapped, HOT_COPIES).filter((server) => server !== route.server);
    await Promise.all(
      copies.map((server) =>
        server.request('ms copy', key, `ms ${mapped} 0 T${COPY_TTL_S}`, EMPTY).catch(() => undefined),
      ),
    );
  }

  async getVersioned(key: string): Promise<{ envelope: Envelope | undefined; version: string }> {
    return this.#withKey(key, async (mapped, route) => {
      const reply = await route.server.request('mg', key, `mg ${mapped} v c`);
      return { envelope: this.#decode(reply), version: versionOf(reply) };
    });
  }

  async version(key: string): Promise<string> {
    return this.#withKey(key, async (mapped, route) =>
      versionOf(await route.server.request('mg', key, `mg ${mapped} c`)),
    );
  }

  /** A blind write (moves the CAS); the cache itself stores through {@link writeIfVersion}. */
  async set(key: string, envelope: Envelope, ttlMs: number): Promise<void> {
    const data = this.#encode(key, envelope);
    await this.#write(key, (mapped, route) =>
      this.#store(route, key, `ms ${mapped} ${data.length} T${this.#ttl(ttlMs, route)}`, data),
    );
  }

  async setIfVersion(
    key: string,
    envelope: Envelope,
    ttlMs: number,
    version: string,
    fence?: string,
  ): Promise<boolean> {
    const data = this.#encode(key, envelope);
    // Under a lease the lease's CAS is both the lock token and the version (the lease is the item).
    const token = fence ?? version;
    return this.#write(key, (mapped, route) => {
      const mode = token === '0' ? 'ME' : `C${token}`;
      return this.#store(route, key, `ms ${mapped} ${data.length} T${this.#ttl(ttlMs, route)} ${mode}`, data);
    });
  }

  async writeIfVersion(key: string, envelope: Envelope, ttlMs: number, version: string): Promise<boolean> {
    if (await this.setIfVersion(key, envelope, ttlMs, version)) return true;
    // Another write raced this one: nobody knows whose database write landed last, so remove the key.
    await this.delete(key);
    return false;
  }

  async delete(key: string): Promise<void> {
    await this.#write(key, (mapped, route) =>
      this.#store(route, key, `ms ${mapped} 0 T${this.#tombstoneTtl(route)}`, EMPTY),
    );
  }

  async clear(keyPrefix: string): Promise<void> {
    await this.#generations.bump(keyPrefix, this.#clock.now());
  }

  async tryLock(key: string, ttlMs: number): Promise<LockHandle | undefined> {
    return this.#withKey(key, async (mapped, route) => {
      const ttl = this.#ttl(ttlMs, route);
      // An absent key: add the lease (one round trip, the common case).
      const added = await route.server.request('ms', key, `ms ${mapped} 1 T${ttl} ME c`, LEASE);
      if (added.code === 'HD') return new Lease(this, key, tokenOf(added, key));
      if (added.code !== 'NS') throw unexpected(added, 'ms', key);
      // Present: a tombstone (or a lease released without a value) can become our lease; a value or a
      // live lease cannot.
      const held = await route.server.request('mg', key, `mg ${mapped} v c`);
      if (held.code !== 'VA' || (held.value as Buffer).length !== 0) return undefined;
      const taken = await route.server.request('ms', key, `ms ${mapped} 1 T${ttl} C${versionOf(held)} c`, LEASE);
      return taken.code === 'HD' ? new Lease(this, key, tokenOf(taken, key)) : undefined;
    });
  }

  /** Polls until the key holds something other than a lease (or nothing), or `timeoutMs` passes. */
  async waitForFill(key: string, timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    // A fixed, short pause: one waiter per key per instance (single-flight), so a look every few ms is
    // a few hundred tiny reads a second at most, and the fill is seen within one pause.
    for (;;) {
      const left = deadline - performance.now();
      if (left <= 0) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(this.#pollMs, left)));
      try {
        const reply = await this.#withKey(key, (mapped, route) => route.server.request('mg', key, `mg ${mapped} v`));
        if (reply.code !== 'VA' || (reply.value as Buffer).length !== 1) return;
      } catch {
        return; // the server does not answer: stop waiting, the caller decides
      }
    }
  }

  /** A no-op: waiters poll (Memcached has no notifications). */
  async announceFill(): Promise<void> {}

  async close(): Promise<void> {
    this.#pool.close();
  }

  /** Internal (the lease's): rewrites a lease under compare-and-swap (`ttlMs` from now): its new CAS, or `undefined` if not ours. */
  async renewLease(key: string, token: string, ttlMs: number): Promise<string | undefined> {
    return this.#withKey(key, async (mapped, route) => {
      const reply = await route.server.request(
        'ms',
        key,
        `ms ${mapped} 1 T${this.#ttl(ttlMs, route)} C${token} c`,
        LEASE,
      );
      return reply.code === 'HD' ? tokenOf(reply, key) : undefined;
    });
  }

  /** Internal (the lease's): turns a lease back into a tombstone, if it is still ours (a stored value has moved its CAS). */
  async releaseLease(key: string, token: string): Promise<void> {
    await this.#withKey(key, (mapped, route) =>
      route.server.request('ms', key, `ms ${mapped} 0 T${this.#tombstoneTtl(route)} C${token}`, EMPTY),
    );
  }

  /** Runs `use` with the key's mapped form and route (the generations read first when not yet known). */
  #withKey<T>(key: string, use: (mapped: string, route: Route) => Promise<T>): Promise<T> {
    const head = this.#generations.head(key, this.#clock.now());
    if (typeof head === 'string') return this.#routed(key, head, use);
    return head.then((h) => this.#routed(key, h, use));
  }

  #routed<T>(key: string, head: string, use: (mapped: string, route: Route) => Promise<T>): Promise<T> {
    const mapped = memcachedKey(this.#prefix + head, key);
    const route = this.#pool.route(mapped);
    if (route.standingInFor !== undefined) this.counters.gutter++;
    return use(mapped, route);
  }

  /** A write: in the gutter, remembered for the owner's return; on a hot key, its copies tombstoned. */
  #write<T>(key: string, use: (mapped: string, route: Route) => Promise<T>): Promise<T> {
    return this.#withKey(key, async (mapped, route) => {
      if (route.standingInFor !== undefined) this.#pool.missedWrite(route.standingInFor, mapped);
      const result = await use(mapped, route);
      await this.#tombstoneCopies(key, mapped, route);
      return result;
    });
  }

  /** An `ms`: stored or not; a value the server refuses as too large is a ValueTooLargeError. */
  async #store(route: { readonly server: PoolServer }, key: string, line: string, data: Buffer): Promise<boolean> {
    let reply: MetaReply;
    try {
      reply = await route.server.request('ms', key, line, data);
    } catch (error) {
      const cause = error instanceof TierUnavailableError ? error.cause : undefined;
      if (cause instanceof MetaReplyError && /too large/i.test(cause.message)) {
        this.counters.refused++;
        throw new ValueTooLargeError(key, data.length, this.#maxBytes);
      }
      throw error;
    }
    if (reply.code === 'HD') return true;
    if (reply.code === 'NS' || reply.code === 'EX' || reply.code === 'NF') return false;
    throw unexpected(reply, 'ms', key);
  }

  #encode(key: string, envelope: Envelope): Buffer {
    return Buffer.from(encodeEnvelope(key, envelope, this.#maxBytes), 'utf8');
  }

  #decode(reply: MetaReply): Envelope | undefined {
    const value = reply.value;
    // Nothing, a tombstone (empty) or a lease (one byte): a miss, not corruption.
    const stored = reply.code === 'VA' && value !== undefined && value.length > 1 ? value : null;
    return decodeCounted(stored, this.#maxBytes, this.counters);
  }

  /** A TTL in seconds as Memcached reads it (absolute past 30 days), capped in the gutter. */
  #ttl(ttlMs: number, route: Route): number {
    let seconds = Math.max(1, Math.ceil(ttlMs / 1000));
    if (route.standingInFor !== undefined) seconds = Math.min(seconds, this.#gutterTtlS);
    return seconds > RELATIVE_TTL_MAX_S ? Math.floor(Date.now() / 1000) + seconds : seconds;
  }

  #tombstoneTtl(route: Route): number {
    return route.standingInFor === undefined ? TOMBSTONE_TTL_S : this.#gutterTtlS;
  }

  /** Reads (`D0 `) or moves a generation counter. Generations never go to the gutter (see generations.ts). */
  async #counter(prefix: string, delta: string): Promise<string> {
    const mapped = memcachedKey(`${this.#prefix}!g:`, prefix);
    const owner = this.#pool.ownerOf(mapped);
    const reply = await owner.request('ma', prefix, `ma ${mapped} N0 J${Date.now()} ${delta}v`);
    if (reply.code !== 'VA' || reply.value === undefined) throw unexpected(reply, 'ma', prefix);
    return reply.value.toString('latin1');
  }
}

/** The CAS of a reply (`'0'` when the key is absent). */
function versionOf(reply: MetaReply): string {
  return reply.code === 'EN' ? '0' : (flagToken(reply, 'c') ?? '0');
}

function tokenOf(reply: MetaReply, key: string): string {
  const token = flagToken(reply, 'c');
  if (token === undefined || token === '0') throw unexpected(reply, 'ms', key);
  return token;
}

/**
 * Creates a Memcached shared tier.
 * @example
 * const l2 = createMemcachedTier({ servers: ['127.0.0.1:11211', '127.0.0.1:11212'], gutter: ['127.0.0.1:11213'] });
 */
export function createMemcachedTier(options: MemcachedTierOptions): MemcachedTier {
  return new MemcachedTier(options);
}
