/** Checks shared by the change-stream tests of both databases. */
import assert from 'node:assert/strict';
import type { ChangeStream } from '../../src/change-stream/change-stream.js';

/** Resolves after the stream applied its next batch of transactions. */
export function nextApplied(changes: ChangeStream): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      changes.off('applied', done);
      resolve();
    };
    changes.on('applied', done);
  });
}

/** A follower (it waits for the slot or lock another stream holds) closes at once, not after its retry. */
export async function assertFollowerClosesPromptly(follower: ChangeStream): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(follower.stats().active, false, 'a follower');
  const closing = performance.now();
  await follower.close();
  assert.ok(performance.now() - closing < 1_000, 'a follower closed promptly');
}
