/** The demo as a child process, for end-to-end tests: the `tiercache` command, a clean env, its URL. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The `tiercache` command's script. */
export const CLI = fileURLToPath(new URL('../../bin/tiercache.js', import.meta.url));

/** The demo must never pick up a developer's DATABASE_URL or REDIS_URL: tests use only what they start. */
export function demoEnv(): NodeJS.ProcessEnv {
  const clean = { ...process.env };
  delete clean.REDIS_URL;
  delete clean.DATABASE_URL;
  return clean;
}

/** A running demo: its process and the dashboard's base URL (no trailing slash). */
export interface RunningDemo {
  readonly process: ChildProcess;
  readonly url: string;
  /** Stops it (Ctrl-C) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Starts `tiercache demo <args>` and resolves once it prints its dashboard URL. */
export async function startDemo(args: readonly string[]): Promise<RunningDemo> {
  const child = spawn(process.execPath, [CLI, 'demo', ...args], { env: demoEnv() });
  let out = '';
  child.stderr.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /Dashboard: (http:\/\/\S+)\//.exec(out);
      if (match) resolve(match[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`demo exited (${code}) before serving:\n${out}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    process: child,
    url,
    stop: async () => {
      child.kill('SIGINT');
      await exited;
    },
  };
}
