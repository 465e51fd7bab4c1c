/** Checks shared by the change-stream tests of both databases. */
import assert from 'node:assert/strict';
import type { ChangeStream } from '../../src/change-stream/change-stream.js';
import type { Cache } from '../../src/index.js';
import { eventually } from './eventually.js';

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

/**
 * Closes the cache under a streaming change stream and writes a row the stream maps (`update`): the stream
 * must report the closed cache and let its slot or lock go (`released`), and keep it released 500 ms
 * later — five retries of a stream that only stopped and took it back.
 */
export async function assertLetsGoWhenItsCacheCloses(
  changes: ChangeStream,
  cache: Cache,
  update: () => Promise<unknown>,
  released: () => Promise<boolean>,
): Promise<void> {
  const errors: Error[] = [];
  changes.on('error', (error) => errors.push(error));
  await changes.streaming();
  await cache.close();
  await update();
  await eventually(released, 'the stream let its slot or lock go', 5_000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(await released(), true, 'still released 500 ms later');
  assert.ok(errors.length > 0, 'the closed cache reported');
}
