import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TagIndex } from '../../src/cache/tag-index.js';

const always = () => true;

describe('TagIndex', () => {
  it('keeps only the tags of the last write', () => {
    const index = new TagIndex();
    index.set('k', ['red', 'blue'], always);
    index.set('k', ['blue'], always);
    assert.deepEqual([...index.take('red')], []);
    assert.deepEqual([...index.take('blue')], ['k']);
    assert.equal(index.size, 0);
  });

  it('forgets a removed key, and a taken tag', () => {
    const index = new TagIndex();
    index.set('a', ['red'], always);
    index.set('b', ['red', 'blue'], always);
    index.remove('a');
    assert.deepEqual([...index.take('red')], ['b']);
    assert.deepEqual([...index.take('blue')], [], 'b left every tag when red took it');
  });

  it('prunes keys no longer cached once it has doubled', () => {
    const index = new TagIndex();
    const cached = new Set<string>();
    for (let i = 0; i < 1025; i++) {
      cached.add(`k${i}`);
      index.set(`k${i}`, ['t'], (key) => cached.has(key));
    }
    // Everything but the last key leaves the L1; the next write past the threshold prunes.
    cached.clear();
    for (let i = 0; i < 1100; i++) {
      cached.add(`n${i}`);
      index.set(`n${i}`, ['t'], (key) => cached.has(key));
    }
    assert.ok(index.size <= 1100, `${index.size} pairs after pruning`);
  });
});
