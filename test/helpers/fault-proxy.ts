/**
 * A TCP proxy that injects the faults a network does, between a client and a real server:
 *
 * - `blackhole()`: nothing is delivered either way, and nothing is lost — bytes are held, as a kernel
 *   holds unacknowledged segments for retransmission, and delivered on `heal()`. So a command sent into a
 *   partition reaches the server late, after the client gave up on it (the "late replay").
 * - `reset()`: every connection is cut with a TCP RST.
 * - `latency(ms)`: every chunk is delayed.
 * - `halfOpen()`: the client's bytes reach the server, the server's replies are dropped.
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
  readonly held: { to: 'server' | 'client'; chunk: Buffer }[] = [];
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

  /** Connections open now. */
  get connections(): number {
    return this.#links.size;
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
    for (const link of this.#links) {
      for (const { to, chunk } of link.held.splice(0)) (to === 'server' ? link.server : link.client).write(chunk);
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
    if (faulty && this.#mode === 'halfOpen' && to === 'client') return;
    const socket = to === 'server' ? link.server : link.client;
    if (this.#latencyMs > 0) setTimeout(() => socket.write(chunk), this.#latencyMs);
    else socket.write(chunk);
  }
}
