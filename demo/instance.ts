/**
 * An application instance as the demo's control plane (dashboard, scenarios, API routing) drives it:
 * in this process (`LocalInstance`), or in a child process over IPC (`ChildInstance`, for
 * `--instances N`). Both answer the same calls with plain data, so the control plane cannot tell them apart.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type AppConfig, MenuApp } from './app.js';
import { LoadGenerator, type LoadSettings } from './load-generator.js';
import type { ApiResult, InstanceSample } from './sample.js';
import type { Menu, MenuInput } from './store/menu.js';
import { openStore } from './store/open-store.js';

/** What scenarios ask of every instance. */
export type Command =
  | { readonly op: 'protections'; readonly on: boolean }
  /** Count database reads of one menu from now on; `watched` answers the count. */
  | { readonly op: 'watch'; readonly id: number }
  | { readonly op: 'watched' }
  /** Marks menus `from … to − 1` expired (kept for grace, so a failing load can serve them stale). */
  | { readonly op: 'expire'; readonly from: number; readonly to: number }
  /**
   * Deletes a menu from the cache, then at once `count` concurrent reads of it; answers when every
   * read has. One command, so no background read can refill the key between the two.
   */
  | { readonly op: 'deleteAndBurst'; readonly id: number; readonly count: number }
  /** Deletes a menu from the cache (the load generator may have read it before a scenario needs it cold). */
  | { readonly op: 'forget'; readonly id: number }
  /** The load generator leaves a menu alone (`undefined`: not any more); answers once its reads are done. */
  | { readonly op: 'avoid'; readonly id: number | undefined }
  | { readonly op: 'redisDown'; readonly down: boolean }
  | { readonly op: 'dbDown'; readonly down: boolean }
  | { readonly op: 'storm'; readonly id: number | undefined }
  | { readonly op: 'ttl'; readonly ms: number | undefined }
  | { readonly op: 'clear' };

/** One application instance. */
export interface Instance {
  read(id: number): Promise<ApiResult<Menu>>;
  write(id: number, input: MenuInput): Promise<ApiResult<Menu>>;
  /** The instance's report; `peek` leaves its latency and most-read window running. */
  sample(peek?: boolean): Promise<InstanceSample>;
  run(command: Command): Promise<number>;
  close(): Promise<void>;
}

/** An instance in this process. */
export class LocalInstance implements Instance {
  readonly app: MenuApp;
  readonly #load: LoadGenerator;

  constructor(config: AppConfig, load: LoadSettings) {
    this.app = new MenuApp(config, openStore(config.database, config.table));
    this.#load = new LoadGenerator(load, (id) => this.app.read(id));
    this.#load.start();
  }

  read(id: number): Promise<ApiResult<Menu>> {
    return this.app.read(id);
  }

  write(id: number, input: MenuInput): Promise<ApiResult<Menu>> {
    return this.app.write(id, input);
  }

  async sample(peek = false): Promise<InstanceSample> {
    return this.app.sample(this.#load.shed, peek);
  }

  async run(command: Command): Promise<number> {
    const app = this.app;
    switch (command.op) {
      case 'protections':
        app.protections = command.on;
        return 0;
      case 'watch':
        app.store.watch(command.id);
        return 0;
      case 'watched':
        return app.store.watchedReads;
      case 'expire':
        for (let id = command.from; id < command.to; id++) await app.cache.expire(`menu:${id}`);
        return 0;
      case 'deleteAndBurst':
        await app.cache.delete(`menu:${command.id}`);
        await Promise.all(Array.from({ length: command.count }, () => app.read(command.id)));
        return 0;
      case 'avoid':
        await this.#load.avoid(command.id);
        return 0;
      case 'forget':
        await app.cache.delete(`menu:${command.id}`);
        return 0;
      case 'redisDown':
        if (app.l2 === undefined) return 0;
        app.l2.down = command.down;
        return 1;
      case 'dbDown':
        app.store.down = command.down;
        return 0;
      case 'storm':
        this.#load.storm(command.id);
        return 0;
      case 'ttl':
        app.ttlOverrideMs = command.ms;
        return 0;
      case 'clear':
        await app.cache.clear();
        return 0;
    }
  }

  async close(): Promise<void> {
    this.#load.stop();
    await this.app.close();
  }
}

/** A call to a child instance, and its answer. */
export interface Request {
  readonly n: number;
  readonly method: 'read' | 'write' | 'sample' | 'run' | 'close';
  readonly args: readonly unknown[];
}
export type Reply = { readonly n: number; readonly result: unknown } | { readonly n: number; readonly error: string };
/** The first message a child gets. */
export interface Start {
  readonly config: AppConfig;
  readonly load: LoadSettings;
}

const CHILD = fileURLToPath(new URL('./instance-process.ts', import.meta.url));

/** An instance in a child process (`instance-process.ts`), driven over IPC. */
export class ChildInstance implements Instance {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  #next = 0;
  #exited: Error | undefined;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (reply: Reply) => {
      const pending = this.#pending.get(reply.n);
      this.#pending.delete(reply.n);
      if ('error' in reply) pending?.reject(new Error(reply.error));
      else pending?.resolve(reply.result);
    });
    child.on('exit', (code) => {
      this.#exited = new Error(`instance process exited (code ${code})`);
      for (const pending of this.#pending.values()) pending.reject(this.#exited);
      this.#pending.clear();
    });
  }

  /** Starts a child and waits until it is serving. */
  static async start(start: Start): Promise<ChildInstance> {
    const child = fork(CHILD, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const ready = new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`instance process exited while starting (code ${code})`)));
    });
    child.send(start);
    await ready;
    return new ChildInstance(child);
  }

  #call<T>(method: Request['method'], ...args: unknown[]): Promise<T> {
    if (this.#exited !== undefined) return Promise.reject(this.#exited);
    const n = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(n, { resolve: resolve as (value: unknown) => void, reject });
      this.#child.send({ n, method, args } satisfies Request);
    });
  }

  read(id: number): Promise<ApiResult<Menu>> {
    return this.#call('read', id);
  }

  write(id: number, input: MenuInput): Promise<ApiResult<Menu>> {
    return this.#call('write', id, input);
  }

  sample(peek = false): Promise<InstanceSample> {
    return this.#call('sample', peek);
  }

  run(command: Command): Promise<number> {
    return this.#call('run', command);
  }

  async close(): Promise<void> {
    if (this.#exited !== undefined) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    await this.#call('close').catch(() => {});
    await exited;
  }
}
