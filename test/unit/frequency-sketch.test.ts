import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrequencySketch } from '../../src/memory/frequency-sketch.js';
import { hashString } from '../../src/memory/hash.js';

const SEED = 0x1234;
const h = (key: string) => hashString(key, SEED);

describe('FrequencySketch', () => {
  it('lets the doorkeeper absorb the first sighting, then counts', () => {
    const sketch = new FrequencySketch(1024);
    assert.equal(sketch.frequency(h('a')), 0);
    sketch.increment(h('a'));
    assert.equal(sketch.frequency(h('a')), 1, 'doorkeeper only');
    sketch.increment(h('a'));
    sketch.increment(h('a'));
    assert.equal(sketch.frequency(h('a')), 3);
  });

  it('saturates at 15 counted plus the doorkeeper', () => {
    const sketch = new FrequencySketch(1024);
    for (let i = 0; i < 100; i++) sketch.increment(h('hot'));
    assert.equal(sketch.frequency(h('hot')), 16);
  });

  it('ranks a frequent key above rare ones despite collisions', () => {
    const sketch = new FrequencySketch(512);
    for (let i = 0; i < 8; i++) sketch.increment(h('popular'));
    for (let i = 0; i < 2000; i++) sketch.increment(h(`rare-${i}`));
    let below = 0;
    for (let i = 0; i < 2000; i++) if (sketch.frequency(h(`rare-${i}`)) < sketch.frequency(h('popular'))) below++;
    assert.ok(below >= 1990, `only ${below} of 2000 rare keys rank below the popular one`);
  });

  it('halves counts and forgets the doorkeeper after a sample of 10 × capacity additions', () => {
    const sketch = new FrequencySketch(64);
    for (let i = 0; i < 13; i++) sketch.increment(h('x')); // doorkeeper + 12 counted
    assert.equal(sketch.frequency(h('x')), 13);
    // Fill the rest of the sample (640 additions) with distinct keys; the last one triggers aging.
    let added = 13;
    for (let i = 0; added < 640; i++, added++) sketch.increment(h(`filler-${i}`));
    const after = sketch.frequency(h('x'));
    assert.ok(after >= 6 && after <= 7, `expected 12 halved (6, +1 if a filler set its doorkeeper bits), got ${after}`);
  });

  it('adds counts held outside to the estimate and to the counters, saturating as increments do', () => {
    const sketch = new FrequencySketch(1024);
    sketch.increment(h('k')); // doorkeeper
    sketch.increment(h('k')); // 1 counted
    assert.equal(sketch.frequency(h('k'), 4), 6, 'doorkeeper + 1 counted + 4 held');
    assert.equal(sketch.frequency(h('k'), 15), 16, 'held counts saturate with the counters');
    sketch.add(h('k'), 4);
    assert.equal(sketch.frequency(h('k')), 6);
    sketch.add(h('k'), 15);
    assert.equal(sketch.frequency(h('k')), 16);
    sketch.add(h('other'), 0);
    assert.equal(sketch.frequency(h('other')), 0);
  });

  it('ages after 10 × capacity ticks as after as many increments, and a reset counts as enough passes to zero a count', () => {
    const sketch = new FrequencySketch(64);
    for (let i = 0; i < 639; i++) sketch.tick();
    assert.equal(sketch.ages, 0);
    sketch.tick();
    assert.equal(sketch.ages, 1);
    sketch.ensureCapacity(4096);
    assert.equal(sketch.ages, 5, 'a reset is four more passes: 15 halved four times is 0');
  });

  it('gives different seeds different collisions', () => {
    assert.notEqual(hashString('menu:1', 1), hashString('menu:1', 2));
    assert.equal(hashString('menu:1', 1), hashString('menu:1', 1));
  });
});
