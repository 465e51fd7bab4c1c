import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError } from '../../src/index.js';
import { namespacePrefix, physicalKey } from '../../src/keys.js';
import { checkPrefix, redisKey, redisPattern } from '../../src/redis/key-layout.js';

/** Keys built from the characters that break naive schemes. */
const nasty = fc.string({
  unit: fc.constantFrom(
    'a',
    'b',
    ':',
    '|',
    '/',
    '%',
    '*',
    '?',
    '[',
    ']',
    '{',
    '}',
    '\\',
    '\n',
    '\u0001',
    'é',
    '😀',
    '7',
  ),
  minLength: 1,
  maxLength: 12,
});

/** Minimal glob matcher with Redis's semantics for * ? [..] and backslash escapes. */
function globMatch(pattern: string, text: string): boolean {
  let source = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '\\') source += `\\${pattern[++i]}`.replace(/\\([a-zA-Z0-9])/, '$1');
    else if (c === '*') source += '[\\s\\S]*';
    else if (c === '?') source += '[\\s\\S]';
    else source += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`${source}$`, 'u').test(text);
}

describe('Redis key layout', () => {
  it('maps 10,000 random (namespace, key) pairs to distinct Redis keys', () => {
    const namespaces = [['menus'], ['users']];
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 1 }), nasty), { minLength: 10_000, maxLength: 10_000 }),
        (pairs) => {
          const seen = new Map<string, string>();
          for (const [ns, key] of pairs) {
            const id = `${ns}\u0000${key}`;
            const redis = redisKey('tc:', physicalKey(namespacePrefix(namespaces[ns] as string[]), key));
            const previous = seen.get(redis);
            assert.ok(
              previous === undefined || previous === id,
              `collision: ${JSON.stringify(previous)} and ${JSON.stringify(id)}`,
            );
            seen.set(redis, id);
          }
        },
      ),
      { numRuns: 3 },
    );
  });

  it('leaves no hash tag in a key, whatever braces the caller used', () => {
    fc.assert(
      fc.property(nasty, (key) => {
        const redis = redisKey('tc:', physicalKey('', key));
        assert.ok(!redis.includes('{') && !redis.includes('}'));
      }),
    );
  });

  it("matches a namespace's keys, and only them, with its clear pattern", () => {
    fc.assert(
      fc.property(nasty, nasty, nasty, (a, b, key) => {
        fc.pre(a !== b);
        const pattern = redisPattern('tc:', namespacePrefix([a]));
        assert.ok(globMatch(pattern, redisKey('tc:', physicalKey(namespacePrefix([a]), key))));
        assert.ok(!globMatch(pattern, redisKey('tc:', physicalKey(namespacePrefix([b]), key))));
        assert.ok(!globMatch(pattern, redisKey('tc:', physicalKey('', key))));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses a prefix with braces', () => {
    assert.throws(() => checkPrefix('{app}:', 'l2.prefix'), ConfigError);
    assert.throws(() => checkPrefix('', 'l2.prefix'), ConfigError);
    assert.equal(checkPrefix('app:', 'l2.prefix'), 'app:');
  });
});
