import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Deadlines } from '../../src/guard/deadlines.js';

describe('Deadlines', () => {
  it('expires only the calls past their deadline, oldest first, and each once', () => {
    const deadlines = new Deadlines();
    const expired: string[] = [];
    deadlines.add(10, () => expired.push('a'));
    deadlines.add(20, () => expired.push('b'));
    deadlines.add(30, () => expired.push('c'));
    deadlines.expire(9);
    assert.deepEqual(expired, []);
    deadlines.expire(20);
    assert.deepEqual(expired, ['a', 'b']);
    assert.equal(deadlines.size, 1);
    deadlines.expire(20);
    assert.deepEqual(expired, ['a', 'b'], 'nothing expires twice');
    deadlines.expire(1000);
    assert.deepEqual(expired, ['a', 'b', 'c']);
    assert.equal(deadlines.size, 0);
  });

  it('never expires a settled call, and settling twice or after expiry changes nothing', () => {
    const deadlines = new Deadlines();
    const expired: number[] = [];
    const first = deadlines.add(10, () => expired.push(1));
    const second = deadlines.add(10, () => expired.push(2));
    const third = deadlines.add(50, () => expired.push(3));
    deadlines.settle(second);
    deadlines.settle(second);
    assert.equal(deadlines.size, 2);
    deadlines.expire(10);
    assert.deepEqual(expired, [1]);
    deadlines.settle(first); // already expired: ignored
    assert.equal(deadlines.size, 1);
    deadlines.settle(third);
    deadlines.expire(100);
    assert.deepEqual(expired, [1]);
    assert.equal(deadlines.size, 0);
  });

  it('keeps every live call across growth of the ring, with its own deadline', () => {
    const deadlines = new Deadlines();
    const expired: number[] = [];
    const tickets: number[] = [];
    // Far more calls than the initial ring holds, with the head not at slot 0 when it grows.
    deadlines.add(0, () => expired.push(-1));
    deadlines.expire(0);
    for (let i = 0; i < 5000; i++) tickets.push(deadlines.add(i, () => expired.push(i)));
    for (let i = 0; i < 5000; i += 2) deadlines.settle(tickets[i] as number);
    assert.equal(deadlines.size, 2500);
    deadlines.expire(2999);
    const odd = (from: number, to: number) =>
      Array.from({ length: (to - from) / 2 }, (_, k) => from + 1 + 2 * k).filter((i) => i < to);
    assert.deepEqual(expired, [-1, ...odd(0, 3000)]);
    deadlines.expire(Number.POSITIVE_INFINITY);
    assert.deepEqual(expired, [-1, ...odd(0, 5000)]);
    assert.equal(deadlines.size, 0);
  });
});
