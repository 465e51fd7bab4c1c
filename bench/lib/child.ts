/** Runs a benchmark worker in its own Node process, so one contender's JIT state cannot touch another's. */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs `bench/<script>` under tsx with the given arguments; the worker prints one JSON line last.
 * @returns the parsed JSON.
 */
export function runWorker<T>(script: string, args: readonly string[], nodeFlags: readonly string[] = []): Promise<T> {
  const path = fileURLToPath(new URL(`../${script}`, import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [...nodeFlags, '--import', 'tsx', path, ...args],
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
