/** Polling for a condition in integration tests that wait on another process, a server or the bus. */
import assert from 'node:assert/strict';

/**
 * Waits until `check` holds, checking every 10 ms for at most `ms`.
 * @returns How long it took, in milliseconds (for tests that print a propagation delay).
 */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, ms = 2000): Promise<number> {
  const started = performance.now();
  for (;;) {
    if (await check()) return performance.now() - started;
    if (performance.now() - started > ms) assert.fail(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
