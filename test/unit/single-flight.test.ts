import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SingleFlight } from '../../src/stampede/single-flight.js';

describe('SingleFlight', () => {
  it('shares one execution per key, forgets it before the callers resume, and reports how it settled', async () => {
    const flights = new SingleFlight<number>();
    const settled: boolean[] = [];
    let runs = 0;
    const flight = flights.start(
      'k',
      async () => {
        runs++;
        return 7;
      },
      (_, ok) => settled.push(ok),
    );
    assert.equal(flights.get('k'), flight, 'joiners find the flight while it runs');
    assert.equal(await flight.promise, 7);
    assert.equal(flights.get('k'), undefined, 'forgotten once settled');
    assert.equal(flights.size, 0);
    assert.deepEqual(settled, [true]);
    assert.equal(runs, 1);
    const failing = flights.start(
      'k',
      () => Promise.reject(new Error('down')),
      (_, ok) => settled.push(ok),
    );
    await assert.rejects(failing.promise, /down/);
    assert.deepEqual(settled, [true, false]);
    const throwing = flights.start('k', () => {
      throw new Error('sync');
    });
    await assert.rejects(throwing.promise, /sync/, 'a run that throws synchronously rejects its flight');
    assert.equal(flights.size, 0);
  });

  it('a settle callback that throws changes nothing for the callers; its error is rethrown on its own', async () => {
    const flights = new SingleFlight<string>();
    const rethrown: unknown[] = [];
    const original = globalThis.queueMicrotask;
    globalThis.queueMicrotask = (task) =>
      original(() => {
        try {
          task();
        } catch (error) {
          rethrown.push(error);
        }
      });
    try {
      const flight = flights.start(
        'k',
        async () => 'value',
        () => {
          throw new Error('a listener failed');
        },
      );
      assert.equal(await flight.promise, 'value');
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      globalThis.queueMicrotask = original;
    }
    assert.equal(rethrown.length, 1);
    assert.match(String(rethrown[0]), /a listener failed/);
  });

  it('supersedes only the flights still running', async () => {
    const flights = new SingleFlight<number>();
    let release!: (value: number) => void;
    const running = flights.start('a', () => new Promise<number>((resolve) => (release = resolve)));
    const done = flights.start('b', async () => 1);
    await done.promise;
    flights.supersede();
    assert.equal(running.superseded, true);
    assert.equal(done.superseded, false, 'a settled flight is no longer in the map');
    release(2);
    assert.equal(await running.promise, 2);
  });
});
