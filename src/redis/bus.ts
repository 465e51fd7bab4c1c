/**
 * The Redis side of cross-instance coordination, over one subscriber connection per tier:
 *
 * - **Fill notifications** (`<prefix>fill`): a lock holder announces that a key's value landed, and
 *   every instance waiting for that key wakes at once instead of polling.
 * - **Invalidation bus** (`<prefix>bus`): writes publish key ids (never values) so other instances drop
 *   their L1 copies. Each message carries the publishing connection's id, a sequence number, and the
 *   origin (the cache that wrote); a subscriber never receives its own origin's messages, but another
 *   cache sharing this tier in the same process does. A jump in a publisher's sequence, or a reconnect of
 *   the subscriber, means messages may have been lost, and subscribers get `'gap'` (their whole L1 is
 *   suspect).
 * - Publishing is fire-and-forget for the writer: messages wait in a bounded, deduplicated queue and
 *   are retried with backoff until Redis takes them. If the queue overflows, it collapses into one
 *   "clear everything" message — losing precision, never an invalidation.
 */
import { randomUUID } from 'node:crypto';
import type { BusEvent, InvalidationMessage } from '../tier.js';
import { type AnyRedisClient, isCluster, isSentinel, type RedisSentinelClient } from './client.js';
import { busChannel, fillChannel } from './key-layout.js';

/** Most distinct invalidations waiting to be published before the queue collapses into one clear. */
const MAX_QUEUED = 10_000;
/** Most invalidations published in one round trip. */
const FLUSH_BATCH = 256;
/** Gaps closer together than this are reported as one, at the end of the window (see `#reportGap`). */
const GAP_COALESCE_MS = 250;
/** First retry delay after a failed publish, doubled up to MAX_RETRY_MS. */
const FIRST_RETRY_MS = 50;
const MAX_RETRY_MS = 2000;

const WIRE_OPS = { delete: 'd', expire: 'e', clear: 'c', tag: 't' } as const satisfies Record<
  InvalidationMessage['op'],
  string
>;
/** A Map, not an object: a wire op such as `constructor` or `__proto__` must not find Object.prototype's. */
const OPS_BY_WIRE = new Map<unknown, InvalidationMessage['op']>([
  ['d', 'delete'],
  ['e', 'expire'],
  ['c', 'clear'],
  ['t', 'tag'],
]);

interface WireMessage {
  /** Publisher's instance id. */
  i: string;
  /** Publisher's sequence number. */
  s: number;
  /** `d` delete, `e` expire (keep as a stale fallback), `c` clear, `t` a tag's keys. */
  o: 'd' | 'e' | 'c' | 't';
  /** Key or prefix. */
  k: string;
  /** Origin: the publishing cache. */
  g?: string;
}

/** Counters of a {@link RedisBus}. */
export interface BusCounters {
  published: number;
  received: number;
  /** Publish attempts that failed and were queued for retry. */
  retries: number;
  /** Times a gap (sequence jump or reconnect) was reported. */
  gaps: number;
  /** Times the queue overflowed and collapsed into a clear-everything message. */
  overflows: number;
  /** Messages on the bus channel that were not well-formed invalidations (ignored). */
  malformed: number;
}

/** Fill notifications and the invalidation bus for one tier. */
export class RedisBus {
  readonly instanceId = randomUUID();
  readonly counters: BusCounters = {
    published: 0,
    received: 0,
    retries: 0,
    gaps: 0,
    overflows: 0,
    malformed: 0,
  };
  readonly #client: AnyRedisClient;
  readonly #fillChannel: string;
  readonly #busChannel: string;
  readonly #hotChannel: string;
  /** Receives other instances' hot-key announcements. */
  onHot: ((keys: readonly string[]) => void) | undefined;
  /** The connection of our own that subscribes; none on Sentinel, whose client subscribes itself. */
  #subscriber: Exclude<AnyRedisClient, RedisSentinelClient> | undefined;
  #unsubscribe: (() => Promise<unknown>) | undefined;
  #subscribed: Promise<void> | undefined;
  #disconnected = false;
  readonly #fillWaiters = new Map<string, Set<() => void>>();
  readonly #handlers = new Map<(event: BusEvent) => void, string | undefined>();
  readonly #lastSeen = new Map<string, number>();
  readonly #queue = new Map<string, InvalidationMessage>();
  /** The order each queued message was queued in (0 for the overflow's clear: it stands for all before it). */
  readonly #queuedAt = new Map<string, number>();
  #queuedCount = 0;
  /** Callers of {@link sent}: resolved once nothing queued at or before `upTo` is still pending. */
  readonly #sentWaiters = new Set<{ readonly upTo: number; readonly resolve: () => void }>();
  #sequence = 0;
  #flushing = false;
  #retryMs = FIRST_RETRY_MS;
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #lastGap = Number.NEGATIVE_INFINITY;
  #gapTimer: NodeJS.Timeout | undefined;

  constructor(client: AnyRedisClient, prefix: string) {
    this.#client = client;
    this.#fillChannel = fillChannel(prefix);
    this.#busChannel = busChannel(prefix);
    this.#hotChannel = `${prefix}hot`;
  }

  /** Announces this instance's hot keys (best effort: the next announcement follows in a second). */
  async publishHot(keys: readonly string[]): Promise<void> {
    void this.start().catch(() => undefined);
    await this.#client
      .publish(this.#hotChannel, JSON.stringify({ i: this.instanceId, k: keys }))
      .catch(() => undefined);
  }

  /** Subscribes (once) on a connection of its own; resolves when the subscription is active. */
  start(): Promise<void> {
    if (this.#subscribed !== undefined) return this.#subscribed;
    const client = this.#client;
    if (isSentinel(client)) return this.#startOnSentinel(client);
    const subscriber = client.duplicate();
    this.#subscriber = subscriber;
    subscriber.on('error', () => {}); // reconnects are handled below; errors are not news
    // node-redis resubscribes by itself after a reconnect; what was published meanwhile is lost to us.
    // A standalone client says 'ready' after each reconnect. A cluster reports its nodes' reconnect
    // attempts only, so each attempt is a gap: the L1 filled between two attempts is suspect too.
    const lost = () => {
      this.#disconnected = true;
      if (isCluster(subscriber)) this.#reportGap();
    };
    const back = () => {
      if (!this.#disconnected) return;
      this.#disconnected = false;
      this.#reportGap();
    };
    subscriber.on('end', lost);
    subscriber.on('reconnecting', lost);
    subscriber.on('ready', back);
    subscriber.on('node-reconnecting', lost);
    subscriber.on('node-ready', back);
    const listener = (message: string, channel: string) => this.#receive(channel, message);
    const subscribed = subscriber
      .connect()
      .then(() => subscriber.subscribe([this.#fillChannel, this.#busChannel, this.#hotChannel], listener));
    // A failed SUBSCRIBE (Redis down at start) must not surface as an unhandled rejection; node-redis
    // keeps reconnecting, and fill waits fall back to their timeout meanwhile.
    subscribed.catch(() => undefined);
    this.#subscribed = subscribed;
    return subscribed;
  }

  /**
   * On Sentinel the client subscribes on a pub/sub connection of its own, which it moves to the new
   * master after a failover and resubscribes; what was published meanwhile is lost to us. So a topology
   * change is a gap, and so is any error the client reports (a reconnect attempt of one of its
   * connections, as on a Cluster): the residual window is one attempt.
   */
  #startOnSentinel(client: RedisSentinelClient): Promise<void> {
    const gap = () => this.#reportGap();
    client.on('topology-change', gap);
    client.on('error', gap);
    const channels = [this.#fillChannel, this.#busChannel, this.#hotChannel];
    const listener = (message: string | Buffer, channel: string | Buffer) =>
      this.#receive(String(channel), String(message));
    // The client may be the caller's and outlive this bus: closing takes our listeners off it.
    this.#unsubscribe = async () => {
      client.off('topology-change', gap);
      client.off('error', gap);
      await client.unsubscribe(channels, listener);
    };
    const subscribed = client.subscribe(channels, listener);
    subscribed.catch(() => undefined);
    this.#subscribed = subscribed;
    return subscribed;
  }

  /**
   * Resolves on the key's fill notification or after `timeoutMs`, whichever comes first. The waiter is
   * registered within a microtask once subscribed, before any command the caller sends next.
   */
  waitForFill(key: string, timeoutMs: number): Promise<void> {
    // Never rejects, and never waits for the subscription itself: a pub/sub connection that hangs
    // (blackholed, or refused at maxclients) must not stretch the wait past its timeout — without a
    // subscription the wait simply lasts its timeout (the poll fallback).
    void this.start().catch(() => undefined);
    return new Promise<void>((resolve) => {
      let waiters = this.#fillWaiters.get(key);
      if (waiters === undefined) {
        waiters = new Set();
        this.#fillWaiters.set(key, waiters);
      }
      const set = waiters;
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.#fillWaiters.get(key) === set) this.#fillWaiters.delete(key);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      set.add(done);
    });
  }

  /** Announces that a key's value landed. Never throws. */
  async announceFill(key: string): Promise<void> {
    await this.#client.publish(this.#fillChannel, key).catch(() => undefined);
  }

  /** Subscribes a handler to other instances' invalidations. */
  onInvalidation(handler: (event: BusEvent) => void, origin?: string): () => void {
    this.#handlers.set(handler, origin);
    void this.start().catch(() => undefined);
    return () => this.#handlers.delete(handler);
  }

  /** Queues an invalidation and publishes it as soon as Redis takes it. */
  publish(message: InvalidationMessage): void {
    if (this.#closed) return;
    const id = `${message.op}\u0000${message.key}\u0000${message.origin ?? ''}`;
    this.#queue.set(id, message);
    this.#queuedAt.set(id, ++this.#queuedCount);
    if (this.#queue.size > MAX_QUEUED) {
      this.counters.overflows++;
      this.#queue.clear();
      this.#queuedAt.clear();
      this.#queue.set('c\u0000', { op: 'clear', key: '' });
      this.#queuedAt.set('c\u0000', 0);
    }
    if (this.#retryTimer === undefined) void this.#flush();
  }

  /**
   * Resolves once every invalidation queued so far has been published (at once if none is pending, and
   * on close); never rejects. A caller that must not report a change applied before the other instances
   * were told — the change stream, before it confirms a transaction — waits on it.
   */
  sent(): Promise<void> {
    const upTo = this.#queuedCount;
    if (this.#closed || this.#oldestPending() > upTo) return Promise.resolve();
    return new Promise((resolve) => this.#sentWaiters.add({ upTo, resolve }));
  }

  /** The queue order of the oldest message not yet published (`Infinity` when none is). */
  #oldestPending(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (const at of this.#queuedAt.values()) if (at < oldest) oldest = at;
    return oldest;
  }

  #wakeSent(): void {
    if (this.#sentWaiters.size === 0) return;
    const oldest = this.#closed ? Number.POSITIVE_INFINITY : this.#oldestPending();
    for (const waiter of this.#sentWaiters) {
      if (oldest > waiter.upTo) {
        this.#sentWaiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wakeSent();
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#gapTimer);
    this.#subscriber?.destroy();
    await this.#unsubscribe?.().catch(() => undefined);
  }

  async #flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (this.#queue.size > 0 && !this.#closed) {
        // Up to FLUSH_BATCH messages at once: the client pipelines them on one connection, so Redis
        // publishes them in sequence order, in one round trip instead of one each.
        const batch: [string, InvalidationMessage, WireMessage][] = [];
        for (const [id, message] of this.#queue) {
          if (batch.length === FLUSH_BATCH) break;
          const wire: WireMessage = {
            i: this.instanceId,
            s: this.#sequence + batch.length + 1,
            o: WIRE_OPS[message.op],
            k: message.key,
            ...(message.origin === undefined ? {} : { g: message.origin }),
          };
          batch.push([id, message, wire]);
        }
        const results = await Promise.allSettled(
          batch.map(([, , wire]) => this.#client.publish(this.#busChannel, JSON.stringify(wire))),
        );
        for (const [index, result] of results.entries()) {
          if (result.status === 'rejected') break;
          const [id, message, wire] = batch[index] as [string, InvalidationMessage, WireMessage];
          this.#sequence = wire.s;
          this.counters.published++;
          // A newer message for the same key may have replaced this one while it was in flight.
          if (this.#queue.get(id) === message) {
            this.#queue.delete(id);
            this.#queuedAt.delete(id);
          }
        }
        this.#wakeSent();
        if (results.some((result) => result.status === 'rejected')) {
          // What failed is retried with the next sequence numbers; a receiver that saw a later one of
          // this batch (it cannot, on one connection, but if) takes the jump for a gap and drops its L1.
          this.counters.retries++;
          this.#retryTimer = setTimeout(() => {
            this.#retryTimer = undefined;
            void this.#flush();
          }, this.#retryMs);
          this.#retryTimer.unref();
          this.#retryMs = Math.min(MAX_RETRY_MS, this.#retryMs * 2);
          return;
        }
        this.#retryMs = FIRST_RETRY_MS;
      }
    } finally {
      this.#flushing = false;
    }
  }

  #receive(channel: string, text: string): void {
    if (channel === this.#hotChannel) {
      try {
        const { i, k } = JSON.parse(text) as { i?: unknown; k?: unknown };
        if (i !== this.instanceId && Array.isArray(k)) this.onHot?.(k.filter((key) => typeof key === 'string'));
      } catch {
        // not an announcement of ours: ignore
      }
      return;
    }
    if (channel === this.#fillChannel) {
      const waiters = this.#fillWaiters.get(text);
      if (waiters !== undefined) for (const wake of [...waiters]) wake();
      return;
    }
    let wire: WireMessage;
    try {
      wire = JSON.parse(text) as WireMessage;
    } catch {
      this.counters.malformed++;
      return;
    }
    const op = typeof wire === 'object' && wire !== null ? OPS_BY_WIRE.get(wire.o) : undefined;
    if (
      op === undefined ||
      typeof wire.i !== 'string' ||
      !Number.isSafeInteger(wire.s) ||
      typeof wire.k !== 'string' ||
      (wire.g !== undefined && typeof wire.g !== 'string')
    ) {
      // Not ours, or from a future version: counted and ignored. Acting on it (as a delete, or worse a
      // clear) would let anyone who can PUBLISH empty every instance's L1.
      this.counters.malformed++;
      return;
    }
    this.counters.received++;
    const last = this.#lastSeen.get(wire.i);
    this.#lastSeen.set(wire.i, wire.s);
    if (last !== undefined && wire.s !== last + 1) this.#reportGap();
    const event: InvalidationMessage = { op, key: wire.k, origin: wire.g };
    for (const [handler, origin] of this.#handlers) if (origin === undefined || origin !== wire.g) handler(event);
  }

  /**
   * Reports a gap at once, or — within {@link GAP_COALESCE_MS} of the last one — once at the end of that
   * window. A Cluster subscriber reports every reconnect attempt of every node (a dead master: hundreds a
   * second), and each gap empties every instance's L1; one per window loses nothing, since the trailing
   * gap still follows the last event (and whatever was cached before it).
   */
  #reportGap(): void {
    const now = performance.now();
    if (this.#gapTimer !== undefined) return;
    const wait = this.#lastGap + GAP_COALESCE_MS - now;
    if (wait > 0) {
      this.#gapTimer = setTimeout(() => {
        this.#gapTimer = undefined;
        this.#gapNow(performance.now());
      }, wait);
      this.#gapTimer.unref();
      return;
    }
    this.#gapNow(now);
  }

  #gapNow(now: number): void {
    if (this.#closed) return;
    this.#lastGap = now;
    this.counters.gaps++;
    for (const handler of this.#handlers.keys()) handler('gap');
  }
}
