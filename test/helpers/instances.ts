/** Spawns application instances (`instance-worker.ts`) as separate OS processes and talks to them. */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('./instance-worker.ts', import.meta.url));

/** A handle on one instance process. */
export class Instance {
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #nextId = 1;

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (message: { id?: number; result?: unknown; error?: string }) => {
      if (message.id === undefined) return;
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (message.error !== undefined) pending?.reject(new Error(message.error));
      else pending?.resolve(message.result);
    });
  }

  /** Starts an instance against a Redis URL, cluster seed URLs or Memcached servers; resolves once ready. */
  static start(target: {
    url?: string;
    urls?: string[];
    memcached?: string[];
    l1?: false;
    hotKeys?: false;
  }): Promise<Instance> {
    const child = fork(WORKER, [JSON.stringify(target)], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`instance exited with ${code} before it was ready`)));
      child.on('message', (message: { ready?: boolean }) => {
        if (message.ready === true) resolve(new Instance(child));
      });
    });
  }

  /** Sends a command and resolves with its result. */
  send<T>(command: Record<string, unknown>): Promise<T> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#child.send({ ...command, id });
    });
  }

  /** Disconnects; the instance closes its cache and exits. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.disconnect();
    // A client closing against a dead cluster node can wait a long time: don't let a test hang on it.
    const stuck = setTimeout(() => this.#child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(stuck);
  }
}
