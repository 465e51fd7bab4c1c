import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConfigError } from '../../src/index.js';
import { namespacePrefix, physicalKey } from '../../src/keys.js';
import { checkPrefix, escapeKey, lockKey, redisKey, redisPattern, versionKey } from '../../src/redis/key-layout.js';

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

  it("hashes a key's value, version and lock on the whole escaped key, whatever braces the caller used", () => {
    /** What Redis Cluster hashes: the text between the first `{` and the next `}`, if non-empty. */
    const hashTag = (redis: string) => {
      const open = redis.indexOf('{');
      const close = open === -1 ? -1 : redis.indexOf('}', open + 1);
      return close > open + 1 ? redis.slice(open + 1, close) : redis;
    };
    fc.assert(
      fc.property(nasty, (key) => {
        const physical = physicalKey('', key);
        const tag = hashTag(redisKey('tc:', physical));
        assert.equal(tag, escapeKey(physical));
        assert.ok(!/[{}]/.test(tag));
        assert.equal(hashTag(versionKey('tc:', physical)), tag);
        assert.equal(hashTag(lockKey('tc:', physical)), tag);
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
