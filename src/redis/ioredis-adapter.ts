/**
 * An ioredis (or iovalkey) standalone client, seen through the part of node-redis's API the Redis tier
 * uses — what BentoCache users and most Node services already hold. The tier, its scripts, lock and bus
 * run unchanged over it; ioredis's own reconnects and offline queue are the caller's settings (the tier's
 * timeouts still bound every call).
 *
 * Not covered: an ioredis `Cluster` (the tier's Cluster code walks node-redis's masters and slot map) —
 * it is a `ConfigError` at construction. ioredis is never imported: the caller's client is used as is.
 */

/** The ioredis calls the adapter makes (`Redis` and iovalkey's `Valkey` both have them). */
export interface IoredisLike {
  status: string;
  options: object;
  get(key: string): Promise<string | null>;
  mget(...keys: string[]): Promise<(string | null)[]>;
  incr(key: string): Promise<number>;
  set(key: string, value: string, ...args: (string | number)[]): Promise<string | null>;
  eval(script: string, numKeys: number, ...args: string[]): Promise<unknown>;
  evalsha(sha: string, numKeys: number, ...args: string[]): Promise<unknown>;
  publish(channel: string, message: string): Promise<number>;
  subscribe(...channels: string[]): Promise<unknown>;
  unsubscribe(...channels: string[]): Promise<unknown>;
  scan(cursor: string, ...args: (string | number)[]): Promise<[string, string[]]>;
  unlink(...keys: string[]): Promise<number>;
  connect(): Promise<void>;
  quit(): Promise<unknown>;
  disconnect(): void;
  duplicate(): IoredisLike;
  on(event: string, listener: (...args: never[]) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
}

/** Whether a value is an ioredis/iovalkey `Cluster` (which the adapter does not cover). */
export function isIoredisCluster(value: unknown): boolean {
  return typeof (value as { nodes?: unknown }).nodes === 'function' && 'slots' in (value as object);
}

/** node-redis's surface over an ioredis client. */
export class IoredisAdapter {
  readonly #client: IoredisLike;

  constructor(client: IoredisLike) {
    this.#client = client;
  }

  get isReady(): boolean {
    return this.#client.status === 'ready';
  }

  get isOpen(): boolean {
    return this.#client.status !== 'end' && this.#client.status !== 'close';
  }

  get(key: string): Promise<string | null> {
    return this.#client.get(key);
  }

  mGet(keys: string[]): Promise<(string | null)[]> {
    return this.#client.mget(...keys);
  }

  incr(key: string): Promise<number> {
    return this.#client.incr(key);
  }

  set(
    key: string,
    value: string,
    options?: { expiration?: { type: 'PX'; value: number }; condition?: 'NX' },
  ): Promise<string | null> {
    const args: (string | number)[] = [];
    if (options?.expiration !== undefined) args.push('PX', options.expiration.value);
    if (options?.condition !== undefined) args.push(options.condition);
    return this.#client.set(key, value, ...args);
  }

  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown> {
    return this.#client.eval(script, options.keys.length, ...options.keys, ...options.arguments);
  }

  evalSha(sha: string, options: { keys: string[]; arguments: string[] }): Promise<unknown> {
    return this.#client.evalsha(sha, options.keys.length, ...options.keys, ...options.arguments);
  }

  publish(channel: string, message: string): Promise<number> {
    return this.#client.publish(channel, message);
  }

  async scan(cursor: string, options: { MATCH: string; COUNT: number }): Promise<{ cursor: string; keys: string[] }> {
    const [next, keys] = await this.#client.scan(cursor, 'MATCH', options.MATCH, 'COUNT', options.COUNT);
    return { cursor: next, keys };
  }

  unlink(key: string): Promise<number> {
    return this.#client.unlink(key);
  }

  /** A second connection (the bus's subscriber), ioredis's `duplicate()`. */
  duplicate(): IoredisAdapter {
    return new IoredisAdapter(this.#client.duplicate());
  }

  /** Resolves once connected (ioredis connects by itself unless `lazyConnect`). */
  async connect(): Promise<void> {
    const client = this.#client;
    if (client.status === 'ready') return;
    if (client.status === 'wait') return client.connect();
    await new Promise<void>((resolve) => {
      const ready = () => {
        client.off('ready', ready);
        resolve();
      };
      client.on('ready', ready);
    });
  }

  /** node-redis's `subscribe(channels, listener)`: ioredis delivers every channel's messages as one event. */
  async subscribe(channels: string[], listener: (message: string, channel: string) => void): Promise<void> {
    this.#client.on('message', ((channel: string, message: string) => {
      if (channels.includes(channel)) listener(message, channel);
    }) as (...args: never[]) => void);
    await this.#client.subscribe(...channels);
  }

  on(event: string, listener: (...args: never[]) => void): this {
    // node-redis names that ioredis does not emit ('node-ready', …) simply never fire.
    this.#client.on(event, listener);
    return this;
  }

  off(event: string, listener: (...args: never[]) => void): this {
    this.#client.off(event, listener);
    return this;
  }

  async close(): Promise<void> {
    await this.#client.quit();
  }

  destroy(): void {
    this.#client.disconnect();
  }
}
