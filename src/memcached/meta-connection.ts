/**
 * One connection to one Memcached server, speaking the meta text protocol (`mg`, `ms`, `md`, `ma`;
 * memcached ≥ 1.6). Why a protocol client of our own: leases need the meta commands' CAS tokens and
 * add/compare-and-swap modes in one request, and no maintained Node client speaks them (`memjs` speaks
 * the binary protocol, which memcached has deprecated; `memcache-client` the classic text commands).
 *
 * - **Pipelined.** Requests go out as they come, replies come back in order (the protocol guarantees
 *   it on one connection), so a FIFO of pending requests is all the bookkeeping; one `write` per tick.
 * - **Never quiet.** No request uses the `q` flag: every request gets exactly one reply, which keeps
 *   the FIFO in step.
 * - **Failure is wholesale.** A socket error, a close, or a reply that does not parse fails every
 *   pending request and drops the socket; the next request reconnects. Bytes that arrive after a reply
 *   that did not parse are never matched to a later request.
 * - Timeouts and the breaker are the caller's (`guard/guarded-calls.ts`).
 */
import { connect, type Socket } from 'node:net';

/** A meta reply: its code, its flags (each as returned, e.g. `c42`, `W`) and, for `VA`, the value. */
export interface MetaReply {
  readonly code: 'VA' | 'HD' | 'EN' | 'NF' | 'NS' | 'EX' | 'MN' | 'OK';
  readonly flags: readonly string[];
  readonly value: Buffer | undefined;
}

/** The server answered with an error line (`CLIENT_ERROR`, `SERVER_ERROR`, `ERROR`). */
export class MetaReplyError extends Error {
  /** The error line's first word. */
  readonly kind: string;
  constructor(line: string) {
    super(`memcached replied ${JSON.stringify(line.slice(0, 200))}`);
    this.kind = line.split(' ', 1)[0] as string;
  }
}

/** One request waiting for its reply. A class: it lives across the round trip (see single-flight.ts). */
class Pending {
  constructor(
    readonly resolve: (reply: MetaReply) => void,
    readonly reject: (error: Error) => void,
  ) {}
}

const CRLF = Buffer.from('\r\n');
/** Meta reply codes, and `OK` (the reply to `flush_all`). */
const CODES = new Set(['VA', 'HD', 'EN', 'NF', 'NS', 'EX', 'MN', 'OK']);
/** Connection attempts give up after this long (the caller's timeout usually fires first). */
const CONNECT_TIMEOUT_MS = 2000;

/** A pipelined meta-protocol connection to `host:port`, connecting on first use and after a failure. */
export class MetaConnection {
  readonly host: string;
  readonly port: number;
  #socket: Socket | undefined;
  #pending: Pending[] = [];
  #head = 0;
  #buffer: Buffer = Buffer.alloc(0);
  #out: Buffer[] = [];
  #flushQueued = false;
  #closed = false;

  constructor(host: string, port: number) {
    this.host = host;
    this.port = port;
  }

  /** Requests in flight. */
  get inFlight(): number {
    return this.#pending.length - this.#head;
  }

  /**
   * Sends one request: `line` is the command without its CRLF; `data` the value of an `ms`. Resolves
   * with the reply; rejects on an error reply or a connection failure.
   */
  request(line: string, data?: Buffer): Promise<MetaReply> {
    if (this.#closed) return Promise.reject(new Error('the connection is closed'));
    return new Promise<MetaReply>((resolve, reject) => {
      this.#pending.push(new Pending(resolve, reject));
      this.#out.push(Buffer.from(`${line}\r\n`, 'utf8'));
      if (data !== undefined) this.#out.push(data, CRLF);
      if (!this.#flushQueued) {
        this.#flushQueued = true;
        queueMicrotask(() => this.#flush());
      }
    });
  }

  /** Closes the socket and fails what is pending; later requests fail. */
  close(): void {
    this.#closed = true;
    this.#fail(new Error('the connection was closed'));
  }

  #flush(): void {
    this.#flushQueued = false;
    if (this.#out.length === 0) return;
    const chunk = this.#out.length === 1 ? (this.#out[0] as Buffer) : Buffer.concat(this.#out);
    this.#out = [];
    (this.#socket ?? this.#open()).write(chunk);
  }

  #open(): Socket {
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => {
      if (socket.connecting) socket.destroy(new Error(`connecting to ${this.host}:${this.port} timed out`));
    });
    socket.once('connect', () => socket.setTimeout(0));
    socket.on('data', (chunk: Buffer) => this.#read(socket, chunk));
    socket.on('error', (error) => this.#drop(socket, error));
    socket.on('close', () => this.#drop(socket, new Error(`the connection to ${this.host}:${this.port} closed`)));
    this.#socket = socket;
    return socket;
  }

  #drop(socket: Socket, error: Error): void {
    if (this.#socket !== socket) return;
    this.#fail(error);
  }

  /** Fails every pending request and forgets the socket (its late bytes are ignored). */
  #fail(error: Error): void {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#buffer = Buffer.alloc(0);
    this.#out = [];
    const pending = this.#pending;
    const head = this.#head;
    this.#pending = [];
    this.#head = 0;
    socket?.destroy();
    for (let i = head; i < pending.length; i++) (pending[i] as Pending).reject(error);
  }

  #read(socket: Socket, chunk: Buffer): void {
    if (this.#socket !== socket) return;
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    let offset = 0;
    const buffer = this.#buffer;
    while (offset < buffer.length) {
      const end = buffer.indexOf(CRLF, offset);
      if (end < 0) break;
      const line = buffer.toString('latin1', offset, end);
      const code = line.slice(0, 2);
      let value: Buffer | undefined;
      let next = end + 2;
      let flags: string[];
      if (code === 'VA') {
        const parts = line.split(' ');
        const size = Number(parts[1]);
        if (!Number.isSafeInteger(size) || size < 0) {
          this.#fail(new Error(`unparsable reply ${line}`));
          return;
        }
        if (buffer.length < next + size + 2) break; // the value has not all arrived
        value = buffer.subarray(next, next + size);
        next += size + 2;
        flags = parts.slice(2);
      } else if (CODES.has(code) && (line.length === 2 || line[2] === ' ')) {
        flags = line.length > 3 ? line.slice(3).split(' ') : [];
      } else {
        const pending = this.#pending[this.#head];
        if (pending === undefined || !/^(CLIENT_ERROR|SERVER_ERROR|ERROR)/.test(line)) {
          this.#fail(new Error(`unexpected reply ${JSON.stringify(line.slice(0, 80))}`));
          return;
        }
        this.#shift();
        offset = next;
        // An error line answers one request; after a CLIENT_ERROR the server may close, which #drop handles.
        pending.reject(new MetaReplyError(line));
        continue;
      }
      offset = next;
      const pending = this.#shift();
      if (pending === undefined) {
        this.#fail(new Error('a reply arrived that no request asked for'));
        return;
      }
      // A view, not a copy: Node hands each socket read its own buffer, never reused.
      pending.resolve({ code: code as MetaReply['code'], flags, value });
    }
    this.#buffer = offset === 0 ? buffer : buffer.subarray(offset);
    if (this.#buffer.length === 0) this.#buffer = Buffer.alloc(0);
  }

  #shift(): Pending | undefined {
    const pending = this.#pending[this.#head];
    if (pending === undefined) return undefined;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#pending.length) {
      this.#pending = this.#pending.slice(this.#head);
      this.#head = 0;
    }
    return pending;
  }
}

/** The token of a reply flag (`c42` → `'42'`), or `undefined` when the flag is absent. */
export function flagToken(reply: MetaReply, flag: string): string | undefined {
  for (const f of reply.flags) if (f[0] === flag) return f.slice(1);
  return undefined;
}

/** Whether a reply carries a bare flag (`W`, `X`, `Z`). */
export function hasFlag(reply: MetaReply, flag: string): boolean {
  return reply.flags.includes(flag);
}
