/**
 * A TCP proxy that injects the faults a network does, between a client and a real server:
 *
 * - `blackhole()`: nothing is delivered either way, and nothing is lost — bytes are held, as a kernel
 *   holds unacknowledged segments for retransmission, and delivered on `heal()`. So a command sent into a
 *   partition reaches the server late, after the client gave up on it (the "late replay").
 * - `reset()`: every connection is cut with a TCP RST.
 * - `latency(ms)`: every chunk is delayed, in order (a stream is never reordered).
 * - `halfOpen()`: the client's bytes reach the server, the server's never reach the client; on `heal()`
 *   such a connection is reset, as a dead peer's is once detected (its bytes are never delivered late:
 *   a TCP stream loses nothing in the middle).
 * - `refuse(true)`: new connections are closed as soon as they open.
 *
 * Faults apply to all connections, or only to pub/sub ones (those that sent SUBSCRIBE) or only to the
 * others, so the command and the subscriber connection of one Redis client can fail apart.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** Which connections a fault applies to. */
export type FaultScope = 'all' | 'pubsub' | 'commands';

type Mode = 'pass' | 'blackhole' | 'halfOpen';

class Link {
  pubsub = false;
  /** Set once the server's bytes were withheld (half-open): the link is reset on heal. */
  severed = false;
  readonly held: { to: 'server' | 'client'; chunk: Buffer }[] = [];
  /** When the last delayed chunk each way is released: later chunks never overtake it. */
  readonly releaseAt = { server: 0, client: 0 };
  constructor(
    readonly client: Socket,
    readonly server: Socket,
  ) {}
}

/** A fault-injecting TCP proxy on a free port of 127.0.0.1. */
export class FaultProxy {
  readonly #server: Server;
  readonly #target: { host: string; port: number };
  readonly #links = new Set<Link>();
  #mode: Mode = 'pass';
  #scope: FaultScope = 'all';
  #latencyMs = 0;
  #refusing = false;
  port = 0;

  private constructor(target: { host: string; port: number }) {
    this.#target = target;
    this.#server = createServer((client) => this.#accept(client));
  }

  /** Starts a proxy in front of `host:port`. */
  static async start(port: number, host = '127.0.0.1'): Promise<FaultProxy> {
    const proxy = new FaultProxy({ host, port });
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    proxy.port = (proxy.#server.address() as { port: number }).port;
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Holds every byte (both ways) of the connections in `scope` until {@link heal}. */
  blackhole(scope: FaultScope = 'all'): void {
    this.#mode = 'blackhole';
    this.#scope = scope;
  }

  /** Drops the server's replies on the connections in `scope`; the client's bytes still arrive. */
  halfOpen(scope: FaultScope = 'all'): void {
    this.#mode = 'halfOpen';
    this.#scope = scope;
  }

  /** Delays every chunk by `ms`. */
  latency(ms: number): void {
    this.#latencyMs = ms;
  }

  /** While on, new connections are closed as soon as they open. */
  refuse(on: boolean): void {
    this.#refusing = on;
  }

  /** Ends every fault and delivers what a blackhole held, in order. */
  heal(): void {
    this.#mode = 'pass';
    this.#latencyMs = 0;
    for (const link of [...this.#links]) {
      if (link.severed) {
        link.client.resetAndDestroy();
        link.server.resetAndDestroy();
        this.#links.delete(link);
        continue;
      }
      for (const { to, chunk } of link.held.splice(0)) this.#deliver(link, to, chunk);
    }
  }

  /** Cuts the connections in `scope` with a TCP RST. */
  reset(scope: FaultScope = 'all'): void {
    for (const link of [...this.#links]) {
      if (!this.#applies(link, scope)) continue;
      link.client.resetAndDestroy();
      link.server.resetAndDestroy();
      this.#links.delete(link);
    }
  }

  async close(): Promise<void> {
    this.reset();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #applies(link: Link, scope: FaultScope): boolean {
    return scope === 'all' || (scope === 'pubsub') === link.pubsub;
  }

  #accept(client: Socket): void {
    if (this.#refusing) {
      client.resetAndDestroy();
      return;
    }
    const server = connect(this.#target.port, this.#target.host);
    const link = new Link(client, server);
    this.#links.add(link);
    const end = () => {
      this.#links.delete(link);
      client.destroy();
      server.destroy();
    };
    client.on('error', end);
    server.on('error', end);
    client.on('close', end);
    server.on('close', end);
    client.on('data', (chunk) => {
      if (!link.pubsub && /SUBSCRIBE/i.test(chunk.toString('latin1'))) link.pubsub = true;
      this.#forward(link, 'server', chunk);
    });
    server.on('data', (chunk) => this.#forward(link, 'client', chunk));
  }

  #forward(link: Link, to: 'server' | 'client', chunk: Buffer): void {
    const faulty = this.#mode !== 'pass' && this.#applies(link, this.#scope);
    if (faulty && this.#mode === 'blackhole') {
      link.held.push({ to, chunk });
      return;
    }
    if (faulty && this.#mode === 'halfOpen' && to === 'client') {
      link.severed = true;
      return;
    }
    if (link.severed && to === 'client') return;
    if (link.held.length > 0) {
      link.held.push({ to, chunk }); // behind what a blackhole held: order is kept
      return;
    }
    this.#deliver(link, to, chunk);
  }

  /** Writes a chunk now, or after the latency, never before a chunk sent earlier the same way. */
  #deliver(link: Link, to: 'server' | 'client', chunk: Buffer): void {
    const socket = to === 'server' ? link.server : link.client;
    const now = performance.now();
    const at = Math.max(now + this.#latencyMs, link.releaseAt[to]);
    if (at <= now) {
      socket.write(chunk);
      return;
    }
    link.releaseAt[to] = at;
    setTimeout(() => socket.write(chunk), at - now);
  }
}
