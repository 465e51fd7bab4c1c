import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, createCache, createRedisTier, parseDuration, type SentinelTarget } from '../../src/index.js';

function configError(fn: () => unknown, option: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
    assert.equal(error.option, option);
    assert.equal(error.code, 'ERR_TIERCACHE_CONFIG');
    assert.match(error.message, new RegExp(`\`${option.replace('.', '\\.')}\``));
    return true;
  });
}

describe('durations', () => {
  it('parses milliseconds and unit strings', () => {
    assert.equal(parseDuration(1500, 'ttl'), 1500);
    assert.equal(parseDuration('250ms', 'ttl'), 250);
    assert.equal(parseDuration('300s', 'ttl'), 300_000);
    assert.equal(parseDuration('5m', 'ttl'), 300_000);
    assert.equal(parseDuration('24h', 'ttl'), 86_400_000);
    assert.equal(parseDuration('7d', 'ttl'), 604_800_000);
    assert.equal(parseDuration('1.5s', 'ttl'), 1500);
    assert.equal(parseDuration(' 2 m ', 'ttl'), 120_000);
  });

  for (const bad of [
    0,
    -1,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    '0s',
    '-5m',
    '5 minutes',
    '',
    'Infinity',
    undefined,
    null,
    {},
  ]) {
    it(`refuses ${typeof bad === 'string' ? JSON.stringify(bad) : String(bad)} naming the option`, () => {
      configError(() => parseDuration(bad, 'nullTtl'), 'nullTtl');
    });
  }
});

describe('cache options', () => {
  it('requires a ttl', () => {
    configError(() => createCache({} as never), 'ttl');
    configError(() => createCache({ ttl: 0 }), 'ttl');
    configError(() => createCache({ ttl: Number.POSITIVE_INFINITY }), 'ttl');
    configError(() => createCache({ ttl: Number.NaN }), 'ttl');
    configError(() => createCache({ ttl: -5 }), 'ttl');
  });

  it('refuses a curve budget outside (0, 1] of a core', () => {
    for (const bad of [0, -0.1, 1.5, Number.NaN, '0.03']) {
      configError(() => createCache({ ttl: '1m', health: { curveBudget: bad as number } }), 'health.curveBudget');
    }
    assert.doesNotThrow(() => createCache({ ttl: '1m', health: { curveBudget: 1 } }).close());
  });

  it('refuses a missing options object', () => {
    configError(() => createCache(undefined as never), 'options');
  });

  it('refuses an unbounded memory tier, naming the options that fix it', () => {
    assert.throws(
      () => createCache({ ttl: '5m', l1: {} }),
      (error: unknown) =>
        error instanceof ConfigError && /maxEntries/.test(error.message) && /maxBytes/.test(error.message),
    );
  });

  it('accepts l1: false, a count bound, a byte bound, or both', () => {
    for (const l1 of [false, { maxEntries: 10 }, { maxBytes: 1000 }, { maxEntries: 10, maxBytes: 1000 }] as const) {
      assert.ok(createCache({ ttl: '5m', l1 }));
    }
  });

  it('validates each numeric option by name', () => {
    configError(() => createCache({ ttl: '5m', l1: { maxEntries: 0 } }), 'l1.maxEntries');
    configError(() => createCache({ ttl: '5m', l1: { maxEntries: 1.5 } }), 'l1.maxEntries');
    configError(() => createCache({ ttl: '5m', l1: { maxBytes: -1 } }), 'l1.maxBytes');
    configError(() => createCache({ ttl: '5m', maxKeyLength: 0 }), 'maxKeyLength');
    configError(() => createCache({ ttl: '5m', maxEntryBytes: Number.POSITIVE_INFINITY }), 'maxEntryBytes');
    configError(() => createCache({ ttl: '5m', ttlJitter: 1 }), 'ttlJitter');
    configError(() => createCache({ ttl: '5m', ttlJitter: -0.1 }), 'ttlJitter');
    configError(() => createCache({ ttl: '5m', nullTtl: 0 }), 'nullTtl');
    configError(() => createCache({ ttl: '5m', copyOnRead: 'yes' as never }), 'copyOnRead');
    configError(() => createCache({ ttl: '5m', clock: {} as never }), 'clock');
    configError(() => createCache({ ttl: '5m', random: 4 as never }), 'random');
    configError(() => createCache({ ttl: '5m', weigher: 'size' as never }), 'weigher');
  });

  it('refuses unknown options, so a typo does not silently fall back to a default', () => {
    configError(() => createCache({ ttl: '5m', TTL: '1m' } as never), 'TTL');
    configError(() => createCache({ ttl: '5m', l1: { maxSize: 10 } as never }), 'l1.maxSize');
  });

  it('validates per-call options at the call', async () => {
    const cache = createCache({ ttl: '5m' });
    await assert.rejects(
      cache.getOrLoad('k', () => 1, { ttl: 0 }),
      (error: unknown) => error instanceof ConfigError && error.option === 'ttl',
    );
    await assert.rejects(
      cache.set('k', 1, { ttlJitter: 2 }),
      (error: unknown) => error instanceof ConfigError && error.option === 'ttlJitter',
    );
    await assert.rejects(
      cache.set('k', 1, { tll: 5 } as never),
      (error: unknown) => error instanceof ConfigError && error.option === 'tll',
    );
    assert.equal(await cache.has('k'), false);
  });
});

describe('createRedisTier options', () => {
  it('refuses a Sentinel target without a name, without sentinels, or with a sentinel that is not a URL', () => {
    const refused = (client: unknown, pattern: RegExp) =>
      assert.throws(
        () => createRedisTier({ client: client as SentinelTarget }),
        (error: unknown) => error instanceof ConfigError && error.option === 'client' && pattern.test(error.message),
      );
    refused({ name: '', sentinels: ['redis://127.0.0.1:26379'] }, /master name/);
    refused({ name: 'mymaster', sentinels: [] }, /at least one sentinel/);
    refused({ name: 'mymaster', sentinels: ['not a url'] }, /not a URL/);
    refused({ nodes: ['redis://127.0.0.1:26379'] }, /\{ name, sentinels \}/);
  });
});
