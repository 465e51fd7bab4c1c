import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitBreaker } from '../../src/guard/circuit-breaker.js';
import { FakeClock } from '../helpers/fake-clock.js';

describe('CircuitBreaker', () => {
  it('opens after N consecutive failures, refuses while open, then lets one trial through', () => {
    const clock = new FakeClock();
    const breaker = new CircuitBreaker({ failures: 3, openMs: 1000 }, clock);
    breaker.failure();
    breaker.failure();
    breaker.success(); // a success resets the streak
    breaker.failure();
    breaker.failure();
    assert.equal(breaker.state, 'closed');
    breaker.failure();
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.opened, 1);
    assert.equal(breaker.allow(), false);
    clock.advance(999);
    assert.equal(breaker.allow(), false);
    clock.advance(1);
    assert.equal(breaker.state, 'half-open');
    assert.equal(breaker.allow(), true, 'the trial');
    assert.equal(breaker.allow(), false, 'only one trial at a time');
    breaker.failure();
    assert.equal(breaker.state, 'open', 'a failed trial reopens at once');
    assert.equal(breaker.opened, 2);
    clock.advance(1000);
    assert.equal(breaker.allow(), true);
    breaker.success();
    assert.equal(breaker.state, 'closed');
    assert.equal(breaker.allow(), true);
  });
});
