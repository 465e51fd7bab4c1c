/**
 * Several worker processes released together: each connects, says `{ ready: true }`, and starts only
 * on `{ go: true }`, once all are ready — so a herd is a herd, not a queue of process start-ups. Each
 * answers `{ result }`.
 */
import { fork } from 'node:child_process';

/** Forks `count` copies of `script` with `args`, releases them together, and collects their results. */
export async function runHerd<T>(script: string, args: readonly string[], count: number): Promise<T[]> {
  const children = Array.from({ length: count }, () =>
    fork(script, [...args], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] }),
  );
  const results = children.map(
    (child) =>
      new Promise<T>((resolve, reject) => {
        child.on('message', (message: { result?: T }) => {
          if (message.result !== undefined) resolve(message.result);
        });
        child.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`${script} exited with ${code}`))));
      }),
  );
  await Promise.all(
    children.map(
      (child) => new Promise<void>((resolve) => child.on('message', (m: { ready?: boolean }) => m.ready && resolve())),
    ),
  );
  for (const child of children) child.send({ go: true });
  return Promise.all(results);
}
