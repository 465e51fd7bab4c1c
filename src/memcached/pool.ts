/**
 * A Memcached pool as Meta runs one: servers on a ketama continuum, each with its own connection,
 * timeout and circuit breaker, and an optional **gutter pool** (Nishtala et al., "Scaling Memcache at
 * Facebook", NSDI 2013, §3.3).
 *
 * - A server whose breaker is open is *down*: its keys go to the gutter pool (its own continuum), not to
 *   the next live server. Rehashing onto live servers would leave their copies behind, stale, when the
 *   server comes back, and can cascade a hot server's load onto its neighbours; the gutter's entries
 *   live `gutterTtl` at most, so what it serves is bounded.
 * - Writes made in the gutter while a server was down are remembered; when the server answers again,
 *   those keys are tombstoned on it before it takes its keys back, so it cannot serve what they replaced.
 *   Past {@link MAX_MISSED} keys the server is flushed instead (`flush_all`): the pool is the cache's.
 * - Without a gutter, a down server's keys fail fast (the breaker): reads load from the database and
 *   writes are repaired by the cache once the server answers.
 */
import { ConfigError, TierUnavailableError } from '../errors.js';
import { type CallCounters, GuardedCalls } from '../guard/guarded-calls.js';
import type { Clock } from '../options.js';
import { Ketama } from './ketama.js';
import { MetaConnection, type MetaReply, MetaReplyError } from './meta-connection.js';

/** A server: `'host:port'`, `'host:port:weight'`, or an object. */
export type ServerAddress = string | { readonly host: string; readonly port: number; readonly weight?: number };

/** Keys remembered per down server for replay; past this the server is flushed when it returns. */
const MAX_MISSED = 10_000;

/** One server of the pool. */
export class PoolServer {
  readonly name: string;
  readonly weight: number;
  readonly connection: MetaConnection;
  readonly calls: GuardedCalls;
  /** Keys written to the gutter in this server's place while it was down. */
  readonly missed = new Set<string>();
  /** More keys were missed than {@link MAX_MISSED}: flush on return. */
  overflowed = false;
  /** The replay running now, if any. */
  replaying: Promise<void> | undefined;

  constructor(address: ServerAddress, calls: GuardedCalls) {
    const { host, port, weight } = parseAddress(address);
    this.name = `${host}:${port}`;
    this.weight = weight;
    this.connection = new MetaConnection(host, port);
    this.calls = calls;
  }

  /** Whether the breaker is open: the server counts as down. */
  get down(): boolean {
    return this.calls.breakerState === 'open';
  }

  /** One request under this server's timeout and breaker. */
  request(command: string, key: string, line: string, data?: Buffer): Promise<MetaReply> {
    return this.calls.call(command, key, () => this.connection.request(line, data));
  }
}

/** Settings of a {@link Pool}. */
export interface PoolSettings {
  readonly servers: readonly ServerAddress[];
  readonly gutter: readonly ServerAddress[];
  readonly timeoutMs: number;
  readonly breakerFailures: number;
  readonly breakerOpenMs: number;
  readonly clock: Clock;
}

/** Where a key goes now: its server, and whether that is the gutter standing in for its owner. */
export interface Route {
  readonly server: PoolServer;
  /** The owner, when `server` is a gutter server standing in for it. */
  readonly standingInFor: PoolServer | undefined;
}

/** The servers, the gutter, and the routing between them. */
export class Pool {
  readonly servers: readonly PoolServer[];
  readonly gutter: readonly PoolServer[];
  readonly #ring: Ketama<PoolServer>;
  readonly #gutterRing: Ketama<PoolServer> | undefined;
  /** Calls routed to the gutter. */
  gutterCalls = 0;

  constructor(settings: PoolSettings, counters: CallCounters) {
    if (!Array.isArray(settings.servers) || settings.servers.length === 0) {
      throw new ConfigError('servers', "expected at least one server, e.g. ['127.0.0.1:11211'].");
    }
    const make = (address: ServerAddress) =>
      new PoolServer(
        address,
        new GuardedCalls(
          {
            tier: 'memcached',
            timeoutMs: settings.timeoutMs,
            breakerFailures: settings.breakerFailures,
            breakerOpenMs: settings.breakerOpenMs,
            clock: settings.clock,
            // The server answering about one request (an item too large, say) is not the server failing.
            isKeyError: (cause) => cause instanceof MetaReplyError,
          },
          counters,
        ),
      );
    this.servers = settings.servers.map(make);
    this.gutter = settings.gutter.map(make);
    const names = new Set<string>();
    for (const server of [...this.servers, ...this.gutter]) {
      if (names.has(server.name)) throw new ConfigError('servers', `${server.name} is listed twice.`);
      names.add(server.name);
    }
    this.#ring = new Ketama(this.servers);
    this.#gutterRing = this.gutter.length > 0 ? new Ketama(this.gutter) : undefined;
  }

  /** Where a (mapped) key goes now. */
  route(key: string): Route {
    const owner = this.#ring.server(key);
    const gutter = this.#gutterRing;
    if (gutter === undefined) return { server: owner, standingInFor: undefined };
    if (!owner.down && owner.replaying === undefined && owner.missed.size === 0 && !owner.overflowed) {
      return { server: owner, standingInFor: undefined };
    }
    if (!owner.down) this.#replay(owner);
    this.gutterCalls++;
    return { server: gutter.server(key), standingInFor: owner };
  }

  /** The owner of a key and the next `count - 1` distinct servers on the main continuum. */
  replicas(key: string, count: number): PoolServer[] {
    return this.#ring.servers(key, count);
  }

  /** The owner of a key on the main continuum, down or not. */
  ownerOf(key: string): PoolServer {
    return this.#ring.server(key);
  }

  /** Closes every connection. */
  close(): void {
    for (const server of [...this.servers, ...this.gutter]) {
      server.connection.close();
      server.calls.close();
    }
  }

  /** Remembers a key written in the gutter for `owner`, to tombstone on it when it returns. */
  missedWrite(owner: PoolServer, key: string): void {
    if (owner.overflowed) return;
    if (owner.missed.size >= MAX_MISSED) {
      owner.overflowed = true;
      owner.missed.clear();
    } else {
      owner.missed.add(key);
    }
  }

  /**
   * A server answers again: tombstone the keys written in its place (or flush it), then give it its keys
   * back. Until then its keys stay in the gutter. A failure leaves what is left for the next attempt.
   */
  #replay(owner: PoolServer): void {
    if (owner.replaying !== undefined) return;
    owner.replaying = (async () => {
      if (owner.overflowed) {
        await owner.request('flush_all', '', 'flush_all');
        owner.overflowed = false;
        owner.missed.clear();
        return;
      }
      for (const key of [...owner.missed]) {
        // An empty item moves the key's CAS: no load that read the old item can store over it.
        await owner.request('tombstone', key, `ms ${key} 0 T${TOMBSTONE_TTL_S}`, EMPTY);
        owner.missed.delete(key);
      }
    })()
      .catch(() => undefined)
      .finally(() => {
        owner.replaying = undefined;
      });
  }
}

/** How long a tombstone keeps a deleted key's CAS moved: longer than any load can stay in flight. */
export const TOMBSTONE_TTL_S = 600;
/** An empty value (a tombstone). */
export const EMPTY = Buffer.alloc(0);

/** A server address, parsed. @throws ConfigError for anything malformed. */
function parseAddress(address: ServerAddress): { host: string; port: number; weight: number } {
  let host: unknown;
  let port: unknown;
  let weight: unknown = 1;
  if (typeof address === 'string') {
    const parts = address.split(':');
    if (parts.length < 2 || parts.length > 3) {
      throw new ConfigError('servers', `expected 'host:port' or 'host:port:weight', got ${JSON.stringify(address)}.`);
    }
    [host, port] = [parts[0], Number(parts[1])];
    if (parts.length === 3) weight = Number(parts[2]);
  } else if (typeof address === 'object' && address !== null) {
    ({ host, port } = address);
    weight = address.weight ?? 1;
  }
  if (typeof host !== 'string' || host === '' || /\s/.test(host)) {
    throw new ConfigError('servers', `expected a host name, got ${JSON.stringify(address)}.`);
  }
  if (typeof port !== 'number' || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new ConfigError('servers', `expected a port from 1 to 65535 in ${JSON.stringify(address)}.`);
  }
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight <= 0) {
    throw new ConfigError('servers', `expected a weight above zero in ${JSON.stringify(address)}.`);
  }
  return { host, port, weight };
}

/** A reply the protocol does not allow here: the connection is not to be trusted. */
export function unexpected(reply: MetaReply, command: string, key: string): TierUnavailableError {
  return new TierUnavailableError('memcached', `${command} got an unexpected ${reply.code} reply.`, { key });
}
