/**
 * What a tier's owned connection reports: `ready()` (connected, or the cause it is not: a wrong password,
 * an unknown host, nothing listening, a certificate, no answer at all) and an `error` report of each kind
 * of failure, rate-limited, so a misconfigured Redis is never silent — and never floods a log either.
 */
import { TierUnavailableError } from '../errors.js';

/** A kind of failure is reported again at most this often. */
const REPORT_EVERY_MS = 60_000;

/** The connection state of one tier, and its listeners. */
export class ConnectionHealth {
  readonly #tier: string;
  readonly #where: string;
  readonly #listeners = new Set<(error: TierUnavailableError) => void>();
  readonly #reportedAt = new Map<string, number>();
  readonly #waiters = new Set<{ resolve: () => void; reject: (error: Error) => void }>();
  #connected = false;
  #lastError: TierUnavailableError | undefined;

  /** @param where what the tier connects to, for messages (a URL without its password). */
  constructor(tier: string, where: string) {
    this.#tier = tier;
    this.#where = where;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** The client connected (again). */
  up(): void {
    this.#connected = true;
    this.#lastError = undefined;
    for (const waiter of this.#waiters) waiter.resolve();
    this.#waiters.clear();
  }

  /** The client reported a failure: remember it, fail waiters, report it if its kind is due. */
  failed(cause: unknown): void {
    this.#connected = false;
    const { kind, reason } = explain(cause, this.#where);
    const error = new TierUnavailableError(this.#tier, reason, { cause });
    this.#lastError = error;
    for (const waiter of this.#waiters) waiter.reject(error);
    this.#waiters.clear();
    const now = Date.now();
    const last = this.#reportedAt.get(kind);
    if (last !== undefined && now - last < REPORT_EVERY_MS) return;
    this.#reportedAt.set(kind, now);
    for (const listener of this.#listeners) listener(error);
  }

  /** Resolves once connected; rejects with the cause of the next (or a standing) failure, or after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void> {
    if (this.#connected) return Promise.resolve();
    if (this.#lastError !== undefined) return Promise.reject(this.#lastError);
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(
          new TierUnavailableError(
            this.#tier,
            `no answer from ${this.#where} within ${timeoutMs} ms (a rediss:// URL against a server without TLS, or a firewall?).`,
          ),
        );
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Subscribes to failure reports; @returns a function that unsubscribes. */
  onError(listener: (error: TierUnavailableError) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** A failure's kind (for rate limiting) and a sentence that names its cause. */
function explain(cause: unknown, where: string): { kind: string; reason: string } {
  const error = cause as { code?: unknown; message?: unknown };
  const code = typeof error?.code === 'string' ? error.code : '';
  const message = typeof error?.message === 'string' ? error.message : String(cause);
  if (code === 'ECONNREFUSED') return { kind: code, reason: `nothing listens at ${where} (is Redis running?).` };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { kind: code, reason: `the host of ${where} is not found.` };
  if (/WRONGPASS|NOAUTH|AUTH/.test(message)) {
    return { kind: 'auth', reason: `${where} refused the credentials: ${message}` };
  }
  if (/CERT|SSL|TLS|self.signed|certificate/i.test(`${code} ${message}`)) {
    return { kind: 'tls', reason: `the TLS handshake with ${where} failed: ${message}` };
  }
  return { kind: code || message.split(' ', 1)[0] || 'error', reason: `connecting to ${where} failed: ${message}` };
}
