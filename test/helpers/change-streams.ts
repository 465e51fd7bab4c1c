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
 * Closes the cache under a streaming change stream (made by `stream`) and runs `update`, a write the
 * stream maps to `key`: the stream must report the closed cache and let its slot or lock go (`released`),
 * and keep it released 500 ms later — five retries of a stream that only stopped and took it back. Then
 * the next consumer must apply the write. @returns That consumer, for the caller to close.
 */
export async function assertNextTakesOverWhenItsCacheCloses(scenario: {
  readonly instance: () => Cache;
  readonly stream: (cache: Cache) => ChangeStream;
  readonly key: string;
  readonly update: () => Promise<unknown>;
  readonly released: () => Promise<boolean>;
}): Promise<ChangeStream> {
  const { instance, stream, key, update, released } = scenario;
  const check = instance();
  await check.set(key, 'cached before the update');
  const cache = instance();
  const changes = stream(cache);
  const errors: Error[] = [];
  changes.on('error', (error) => errors.push(error));
  await changes.streaming();
  await cache.close();
  await update();
  await eventually(released, 'the stream let its slot or lock go', 5_000);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal(await released(), true, 'still released 500 ms later');
  assert.ok(errors.length > 0, 'the closed cache reported');
  const next = stream(instance());
  await next.streaming();
  await eventually(async () => !(await check.has(key)), 'the update applied by the next consumer', 5_000);
  return next;
}
