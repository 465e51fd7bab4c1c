/**
 * A model-based property check: random sequences of operations run against a cache and against a model
 * (a Map with TTLs), and after every step the cache must answer what the model says. Keys are drawn to
 * be hostile — namespace escapes, braces, globs, astral and lone-surrogate characters, overlong keys —
 * and values are any plain data. Used over every tier configuration (L1, L1 + L2, L2 only; a memory
 * shared tier and real Redis).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { type Cache, InvalidKeyError } from '../../src/index.js';
import type { FakeClock } from './fake-clock.js';

/** What the model holds for a key: the value (as the shared tier would give it back) and its expiry. */
interface ModelEntry {
  readonly value: unknown;
  readonly expiresAt: number;
  readonly tags: readonly string[];
}

type Op =
  | {
      readonly op: 'set';
      readonly ns: number;
      readonly key: string;
      readonly value: unknown;
      readonly ttl: number;
      readonly tags: string[];
    }
  | { readonly op: 'get' | 'delete' | 'has' | 'load'; readonly ns: number; readonly key: string }
  | { readonly op: 'invalidate'; readonly ns: number; readonly tag: string }
  | { readonly op: 'advance'; readonly ms: number }
  | { readonly op: 'many'; readonly ns: number; readonly keys: string[] };

/**
 * The cache's `ttl` in every configuration checked here, and so its `nullTtl`: what loads live, and the
 * longest a `null` lives (a call's `ttl` can shorten a null's life, not lengthen it; `nullTtl` governs).
 */
const CACHE_TTL = 1000;

/** Namespace paths the operations run in: the root, one namespace, one nested in it, one named like an escape. */
const NAMESPACES: readonly (readonly string[])[] = [[], ['users'], ['users', 'v2'], ['\u00015:users|']];

const hostileKey = fc.oneof(
  fc.constantFrom(
    'a',
    'b',
    '{a}',
    'a}',
    '{',
    '%7B',
    '*',
    '?',
    '[x]',
    '\\',
    '\u0001',
    '\u0001\u0001a',
    '\u00015:users|a',
    '|',
    'ключ',
    '🔑',
    'a b',
  ),
  fc.string({ minLength: 1, maxLength: 6 }),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }),
);
/** Keys the cache must refuse: empty, over maxKeyLength, a lone surrogate. */
const invalidKey = fc.constantFrom('', '\uD800', 'a\uDC00', 'x'.repeat(2000));
/** Plain data, as it reads back from JSON (no -0: JSON turns it into 0). */
const plainValue = fc.jsonValue().map((value) => JSON.parse(JSON.stringify(value)) as unknown);
const tag = fc.constantFrom('red', 'blue', '\u00015:users|red');

const op: fc.Arbitrary<Op> = fc.oneof(
  {
    arbitrary: fc.record({
      op: fc.constant('set' as const),
      ns: fc.nat(NAMESPACES.length - 1),
      key: fc.oneof({ arbitrary: hostileKey, weight: 9 }, { arbitrary: invalidKey, weight: 1 }),
      value: plainValue,
      ttl: fc.integer({ min: 1, max: 5000 }),
      tags: fc.uniqueArray(tag, { maxLength: 2 }),
    }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      op: fc.constantFrom('get' as const, 'delete' as const, 'has' as const, 'load' as const),
      ns: fc.nat(NAMESPACES.length - 1),
      key: fc.oneof({ arbitrary: hostileKey, weight: 9 }, { arbitrary: invalidKey, weight: 1 }),
    }),
    weight: 5,
  },
  {
    arbitrary: fc.record({ op: fc.constant('invalidate' as const), ns: fc.nat(NAMESPACES.length - 1), tag }),
    weight: 1,
  },
  { arbitrary: fc.record({ op: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3000 }) }), weight: 2 },
  {
    arbitrary: fc.record({
      op: fc.constant('many' as const),
      ns: fc.nat(NAMESPACES.length - 1),
      keys: fc.array(hostileKey, { minLength: 1, maxLength: 4 }),
    }),
    weight: 1,
  },
);

function isValidKey(key: string): boolean {
  return key.length > 0 && key.isWellFormed() && Buffer.byteLength(key) <= 1024;
}

/**
 * Runs `runs` random operation sequences. `make` returns a fresh cache over a fresh tier configuration,
 * its clock, and a cleanup.
 */
export async function checkAgainstModel(
  make: () => Promise<{ cache: Cache; clock: FakeClock; done: () => Promise<void> }>,
  runs: number,
  seed?: number,
): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 40 }), async (ops) => {
      const { cache, clock, done } = await make();
      try {
        await run(cache, clock, ops);
      } finally {
        await done();
      }
    }),
    { numRuns: runs, seed, endOnFailure: true },
  );
}

async function run(root: Cache, clock: FakeClock, ops: Op[]): Promise<void> {
  const views = NAMESPACES.map((path) => path.reduce((view, name) => view.namespace(name), root));
  const model = new Map<string, ModelEntry>();
  const id = (ns: number, key: string) => `${ns}\u0000${key}`;
  const live = (ns: number, key: string): ModelEntry | undefined => {
    const entry = model.get(id(ns, key));
    return entry !== undefined && entry.expiresAt > clock.now() ? entry : undefined;
  };
  let loads = 0;
  for (const step of ops) {
    if (step.op === 'advance') {
      clock.advance(step.ms);
      continue;
    }
    const view = views[step.ns] as Cache;
    if (step.op === 'invalidate') {
      let carrying = 0;
      for (const [at, entry] of model) {
        if (at.startsWith(`${step.ns}\u0000`) && entry.tags.includes(step.tag)) {
          model.delete(at);
          if (entry.expiresAt > clock.now()) carrying++;
        }
      }
      const removed = await view.invalidateTags([step.tag]);
      assert.ok(removed >= carrying, `invalidateTags removed ${removed}, ${carrying} live keys carried the tag`);
      continue;
    }
    if (step.op === 'many') {
      const valid = step.keys.every(isValidKey);
      if (!valid) continue;
      const expected = step.keys.map((key) => live(step.ns, key)?.value);
      const got = await view.getOrLoadMany(
        step.keys,
        async (missing) => new Map(missing.map((key) => [key, `loaded:${key}`])),
      );
      step.keys.forEach((key, i) => {
        if (expected[i] !== undefined) assert.deepEqual(got[i], expected[i], `getOrLoadMany(${JSON.stringify(key)})`);
        else {
          assert.equal(got[i], `loaded:${key}`);
          model.set(id(step.ns, key), { value: `loaded:${key}`, expiresAt: clock.now() + CACHE_TTL, tags: [] });
        }
      });
      continue;
    }
    const { key } = step;
    if (!isValidKey(key)) {
      const call =
        step.op === 'set'
          ? () => view.set(key, step.value)
          : step.op === 'get'
            ? () => view.get(key)
            : step.op === 'has'
              ? () => view.has(key)
              : step.op === 'delete'
                ? () => view.delete(key)
                : () => view.getOrLoad(key, () => 1);
      await assert.rejects(call(), InvalidKeyError, `${step.op}(${JSON.stringify(key)}) must be refused`);
      continue;
    }
    const entry = live(step.ns, key);
    switch (step.op) {
      case 'set':
        assert.equal(await view.set(key, step.value, { ttl: step.ttl, tags: step.tags }), 'stored');
        model.set(id(step.ns, key), {
          value: step.value,
          expiresAt: clock.now() + (step.value === null ? Math.min(step.ttl, CACHE_TTL) : step.ttl),
          tags: step.tags,
        });
        break;
      case 'get':
        assert.deepEqual(await view.get(key), entry?.value, `get(${JSON.stringify(key)}) in ${step.ns}`);
        break;
      case 'has':
        assert.equal(await view.has(key), entry !== undefined, `has(${JSON.stringify(key)}) in ${step.ns}`);
        break;
      case 'delete':
        await view.delete(key);
        model.delete(id(step.ns, key));
        break;
      case 'load': {
        const before = loads;
        const value = await view.getOrLoad(key, () => {
          loads++;
          return `loaded:${key}`;
        });
        if (entry !== undefined) {
          assert.deepEqual(value, entry.value, `getOrLoad(${JSON.stringify(key)}) served the cached value`);
          assert.equal(loads, before, 'and did not load');
        } else {
          assert.equal(value, `loaded:${key}`);
          assert.equal(loads, before + 1, 'loaded exactly once');
          model.set(id(step.ns, key), { value, expiresAt: clock.now() + CACHE_TTL, tags: [] });
        }
        break;
      }
    }
  }
}
