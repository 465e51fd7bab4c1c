/** Runs a benchmark worker in its own Node process, so one contender's JIT state cannot touch another's. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Every worker runs on one CPU (`BENCH_CPU`, default 0; `none` to let the OS choose). On this project's
 * 2-vCPU VM one vCPU ran the same loop 40 % slower than the other, so unpinned workers landed on either
 * at random and paired runs compared CPUs rather than contenders.
 */
const TASKSET = '/usr/bin/taskset';
const cpu = process.env.BENCH_CPU ?? '0';
const pinned = cpu !== 'none' && existsSync(TASKSET);

/**
 * Runs `bench/<script>` under tsx with the given arguments; the worker prints one JSON line last.
 * @returns the parsed JSON.
 */
export function runWorker<T>(script: string, args: readonly string[], nodeFlags: readonly string[] = []): Promise<T> {
  const path = fileURLToPath(new URL(`../${script}`, import.meta.url));
  return new Promise((resolve, reject) => {
    const command = [process.execPath, ...nodeFlags, '--import', 'tsx', path, ...args];
    execFile(
      pinned ? TASKSET : process.execPath,
      pinned ? ['-c', cpu, ...command] : command.slice(1),
      { maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`${script} ${args.join(' ')} failed: ${error.message}\n${stderr}`));
          return;
        }
        const last = stdout.trim().split('\n').pop() ?? '';
        try {
          resolve(JSON.parse(last) as T);
        } catch {
          reject(new Error(`${script} printed no JSON result:\n${stdout}\n${stderr}`));
        }
      },
    );
  });
}
