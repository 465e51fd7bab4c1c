import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { CHANNELS, createCache, type HealthReport, registerPrometheus, type TraceContext } from '../../src/index.js';
import { seededRandom } from '../../workload/random.js';
import { FakeClock } from '../helpers/fake-clock.js';

const newCache = (extra: Partial<Parameters<typeof createCache>[0]> = {}) => {
  const clock = new FakeClock();
  const cache = createCache({ ttl: 1000, clock, random: seededRandom(3), ...extra });
  return { cache, clock };
};
const one = () => 1;

describe('miss causes', () => {
  it('counts a cold miss', async () => {
    const { cache } = newCache();
    await cache.getOrLoad('a', one);
    assert.deepEqual(cache.stats().missCauses, { cold: 1, expired: 0, evicted: 0, invalidated: 0 });
  });

  it('counts an expired miss', async () => {
    const { cache, clock } = newCache();
    await cache.set('a', 1);
    clock.advance(1000);
    await cache.getOrLoad('a', one);
    assert.deepEqual(cache.stats().missCauses, { cold: 0, expired: 1, evicted: 0, invalidated: 0 });
  });

  it('counts an evicted miss', async () => {
    const { cache } = newCache({ l1: { maxEntries: 1 } });
    await cache.set('a', 1);
    await cache.set('b', 2); // a one-entry tier keeps the newcomer: 'a' is evicted
    assert.equal(await cache.has('a'), false);
    await cache.getOrLoad('a', one);
    assert.deepEqual(cache.stats().missCauses, { cold: 0, expired: 0, evicted: 1, invalidated: 0 });
  });

  it('counts invalidated misses after delete, clear and a refused set', async () => {
    const { cache } = newCache({ maxEntryBytes: 100 });
    const users = cache.namespace('users');
    await cache.set('a', 1);
    await cache.delete('a');
    await cache.get('a');
    await users.set('b', 1);
    await users.clear();
    await users.get('b');
    await cache.set('c', 1);
    await assert.rejects(cache.set('c', 'x'.repeat(500)));
    await cache.get('c');
    assert.deepEqual(cache.stats().missCauses, { cold: 0, expired: 0, evicted: 0, invalidated: 3 });
    assert.deepEqual(users.stats().missCauses, { cold: 0, expired: 0, evicted: 0, invalidated: 1 });
  });

  it('forgets a removal once the key is cached again', async () => {
    const { cache } = newCache();
    await cache.set('a', 1);
    await cache.delete('a');
    await cache.set('a', 2);
    await cache.delete('a');
    await cache.get('a');
    assert.equal(cache.stats().missCauses.invalidated, 1);
  });

  it('keeps counters per namespace; a namespace covers the ones nested in it, the root covers all', async () => {
    const { cache } = newCache();
    const menus = cache.namespace('menus');
    const v2 = menus.namespace('v2');
    await cache.getOrLoad('x', one);
    await menus.getOrLoad('x', one);
    await menus.getOrLoad('x', one);
    await v2.getOrLoad('x', one);
    assert.equal(v2.stats().namespace, '/menus/v2');
    assert.deepEqual([v2.stats().hits, v2.stats().misses], [0, 1]);
    assert.deepEqual([menus.stats().hits, menus.stats().misses], [1, 2]);
    assert.deepEqual([cache.stats().hits, cache.stats().misses, cache.stats().loads], [1, 3, 3]);
  });

  it('tracks nothing but cold misses with stats: false', async () => {
    const { cache, clock } = newCache({ stats: false });
    await cache.set('a', 1);
    clock.advance(1000);
    await cache.getOrLoad('a', one);
    const stats = cache.stats();
    assert.deepEqual(stats.missCauses, { cold: 1, expired: 0, evicted: 0, invalidated: 0 });
    assert.equal(stats.latency, undefined);
    assert.equal(stats.health, undefined);
  });
});

describe('hit-rate health', () => {
  it('diagnoses a TTL much shorter than the re-read interval, by event', async () => {
    const { cache, clock } = newCache({ ttl: '1s', health: { minRequests: 50, window: '60s' } });
    const warnings: HealthReport[] = [];
    cache.on('lowHitRate', (report) => warnings.push(report));
    for (let round = 0; round < 30; round++) {
      for (let key = 0; key < 20; key++) await cache.getOrLoad(`k${key}`, one);
      clock.advance(5000); // each key is read every 5 s but lives 1 s
    }
    assert.ok(warnings.length > 0, 'no lowHitRate event');
    const report = warnings[warnings.length - 1] as HealthReport;
    assert.equal(report.healthy, false);
    assert.equal(report.hitRate, 0);
    assert.equal(report.diagnosis?.cause, 'ttl-too-short');
    assert.equal(report.diagnosis?.meanRereadAfterExpiryMs, 4000);
    assert.match(
      report.diagnosis?.message ?? '',
      /on average 4\.0 s after expiry: a TTL that much longer would have served them \(the default TTL is 1\.0 s\)/,
    );
  });

  it('diagnoses a key space 10× the capacity, with a shadow estimate above the current hit rate', async () => {
    const { cache, clock } = newCache({ ttl: '1h', l1: { maxEntries: 100 }, health: { minRequests: 100 } });
    const random = seededRandom(11);
    for (let i = 0; i < 20_000; i++) {
      await cache.getOrLoad(`k${Math.floor(random() * 1000)}`, one);
      if (i % 100 === 0) clock.advance(1);
    }
    const health = cache.stats().health as HealthReport;
    assert.equal(health.healthy, false);
    assert.equal(health.diagnosis?.cause, 'capacity-too-small');
    const estimate = health.diagnosis?.estimatedHitRate;
    assert.ok(estimate !== undefined);
    assert.ok(estimate.at2x > health.hitRate, `2× estimate ${estimate.at2x} ≤ current ${health.hitRate}`);
    assert.ok(estimate.at4x >= estimate.at2x);
    // Uniform over 1,000 keys: 2× capacity can hold at most 20%, 4× at most 40%.
    assert.ok(estimate.at2x <= 0.25 && estimate.at4x <= 0.45, JSON.stringify(estimate));
  });

  it('diagnoses a one-hit-wonder stream as caching the wrong data', async () => {
    const { cache } = newCache({ ttl: '1h', l1: { maxEntries: 200 }, health: { minRequests: 100 } });
    for (let i = 0; i < 5000; i++) await cache.getOrLoad(`once-${i}`, one);
    const health = cache.stats().health as HealthReport;
    assert.equal(health.diagnosis?.cause, 'wrong-data');
    // First reads are told apart by the frequency sketch, whose doorkeeper has false positives.
    assert.ok(health.missCauses.cold >= 4000, `only ${health.missCauses.cold} of 5,000 first reads counted cold`);
    assert.equal(health.missCauses.cold + health.missCauses.evicted, 5000);
    const unread = cache.stats().l1?.removedUnread ?? 0;
    // 4,800 entries left; the sketch's collisions may credit a few of them with a second read.
    assert.ok(unread >= 4000, `only ${unread} of 4,800 removed entries counted as unread`);
  });

  it('counts never-seen keys as first reads while the doorkeeper fills: 50,000 one-off keys, 1,000 entries', async () => {
    // The doorkeeper (a Bloom filter of single sightings) fills with one-off keys between agings; asking
    // it too called 14 % of these first reads "evicted". Only the counters, past it, now say "seen".
    const { cache } = newCache({ ttl: '1h', l1: { maxEntries: 1000 }, health: { minRequests: 100 } });
    for (let i = 0; i < 50_000; i++) await cache.getOrLoad(`one-off-${i}`, one);
    const { cold, evicted } = cache.stats().missCauses;
    assert.equal(cold + evicted, 50_000);
    assert.ok(evicted <= 1500, `${evicted} of 50,000 first reads counted as evicted`);
  });

  it('gives each namespace its own verdict: a hot set, one-off keys and a key space too large share one L1', async () => {
    const { cache } = newCache({ ttl: '1h', l1: { maxEntries: 1000 }, health: { minRequests: 100, curveBudget: 1 } });
    const hot = cache.namespace('hot');
    const once = cache.namespace('once');
    const wide = cache.namespace('wide/v2');
    const random = seededRandom(5);
    for (let i = 0; i < 60_000; i++) {
      const pick = random();
      if (pick < 0.4) await hot.getOrLoad(`h${Math.floor(random() * 50)}`, one);
      else if (pick < 0.7) await once.getOrLoad(`o${i}`, one);
      else await wide.getOrLoad(`w${Math.floor(random() * 4000)}`, one); // ~4.5 reads per key
    }
    const report = (view: typeof cache) => view.stats().health as HealthReport;
    const [all, ofHot, ofOnce, ofWide] = [report(cache), report(hot), report(once), report(wide)];
    assert.equal(ofHot.requests + ofOnce.requests + ofWide.requests, all.requests);
    assert.equal(ofHot.healthy, true, `hot set: ${JSON.stringify(ofHot)}`);
    assert.equal(ofOnce.diagnosis?.cause, 'wrong-data', ofOnce.diagnosis?.message);
    assert.equal(ofWide.diagnosis?.cause, 'capacity-too-small', ofWide.diagnosis?.message);
    // Each namespace's curve counts its own sampled keys: flat for one-off keys, rising for the wide one.
    const at = (r: HealthReport, scale: number) => r.curve?.find((point) => point.scale === scale)?.hitRate ?? -1;
    assert.ok(at(ofOnce, 16) >= 0 && at(ofOnce, 16) - ofOnce.hitRate < 0.02, JSON.stringify(ofOnce.curve));
    assert.ok(at(ofWide, 16) - ofWide.hitRate > 0.3, JSON.stringify(ofWide.curve));
    assert.ok(at(ofHot, 1) > 0.95, JSON.stringify(ofHot.curve));
    // The namespace path covers what is nested in it.
    assert.equal(report(cache.namespace('wide')).requests, ofWide.requests);
  });

  it('stays quiet when the hit rate is fine, and after off()', async () => {
    const { cache, clock } = newCache({ health: { minRequests: 10 } });
    const warnings: HealthReport[] = [];
    const listener = (report: HealthReport) => warnings.push(report);
    cache.on('lowHitRate', listener);
    for (let i = 0; i < 1000; i++) {
      await cache.getOrLoad('hot', one);
      clock.advance(20);
    }
    assert.equal(warnings.length, 0);
    assert.equal(cache.stats().health?.healthy, true);
    cache.off('lowHitRate', listener);
    for (let i = 0; i < 200; i++) {
      await cache.getOrLoad(`cold${i}`, one);
      clock.advance(100);
    }
    assert.equal(warnings.length, 0);
  });
});

describe('latency', () => {
  it('times every miss and load, and samples hits', async () => {
    const { cache } = newCache();
    for (let i = 0; i < 10; i++) await cache.getOrLoad(`k${i}`, one);
    for (let i = 0; i < 640; i++) await cache.getOrLoad('k1', one);
    await assert.rejects(cache.getOrLoad('bad', () => Promise.reject(new Error('x'))));
    const latency = cache.stats().latency;
    assert.ok(latency !== undefined);
    assert.equal(latency.getOrLoad.miss.count, 10);
    assert.equal(latency.getOrLoad.error.count, 1);
    assert.equal(latency.load.count, 10);
    assert.equal(latency.loadError.count, 1);
    assert.equal(latency.getOrLoad.hit.count, 10, 'one in 64 of 650 calls, all hits but the first 10');
    assert.ok(latency.getOrLoad.miss.p99 >= latency.getOrLoad.miss.p50);
  });
});

describe('diagnostics_channel tracing', () => {
  it('traces getOrLoad with its outcome, and loads', async () => {
    const { cache } = newCache();
    const outcomes: string[] = [];
    const loads: string[] = [];
    // Tracing is on while the start channel has a subscriber, as every tracer's does.
    const getOrLoadHandlers = {
      start: () => {},
      asyncEnd: (context: TraceContext) => outcomes.push(`${context.key}:${context.outcome}`),
    };
    const loadHandlers = { start: (context: TraceContext) => loads.push(context.key) };
    diagnostics.tracingChannel(CHANNELS.getOrLoad).subscribe(getOrLoadHandlers as never);
    diagnostics.tracingChannel(CHANNELS.load).subscribe(loadHandlers as never);
    try {
      await cache.getOrLoad('a', one);
      await cache.getOrLoad('a', one);
    } finally {
      diagnostics.tracingChannel(CHANNELS.getOrLoad).unsubscribe(getOrLoadHandlers as never);
      diagnostics.tracingChannel(CHANNELS.load).unsubscribe(loadHandlers as never);
    }
    assert.deepEqual(outcomes, ['a:miss', 'a:hit']);
    assert.deepEqual(loads, ['a']);
  });
});

/** Parses Prometheus text exposition: types by metric family, and sample values by series. */
function parsePrometheus(text: string): { types: Map<string, string>; samples: Map<string, number> } {
  const types = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name as string, type as string);
    } else if (line !== '' && !line.startsWith('#')) {
      const space = line.lastIndexOf(' ');
      samples.set(line.slice(0, space), Number(line.slice(space + 1)));
    }
  }
  return { types, samples };
}

describe('Prometheus export', () => {
  it('exposes every documented metric with its type, and values that match stats()', async () => {
    const { cache, clock } = newCache();
    const registry = new Registry();
    const registration = registerPrometheus(cache, { registry });
    const users = cache.namespace('users');
    await users.getOrLoad('1', one);
    await users.getOrLoad('1', one);
    await cache.set('gone', 1);
    clock.advance(1000);
    await cache.getOrLoad('gone', one);
    await assert.rejects(cache.getOrLoad('bad', () => Promise.reject(new Error('x'))));
    const { types, samples } = parsePrometheus(await registry.metrics());
    const expected: Record<string, string> = {
      tiercache_hits_total: 'counter',
      tiercache_misses_total: 'counter',
      tiercache_loads_total: 'counter',
      tiercache_load_errors_total: 'counter',
      tiercache_collapsed_total: 'counter',
      tiercache_refused_too_large_total: 'counter',
      tiercache_stale_sets_refused_total: 'counter',
      tiercache_write_conflicts_total: 'counter',
      tiercache_stale_served_total: 'counter',
      tiercache_load_timeouts_total: 'counter',
      tiercache_overloaded_total: 'counter',
      tiercache_refreshes_total: 'counter',
      tiercache_refresh_errors_total: 'counter',
      tiercache_tier_errors_total: 'counter',
      tiercache_lock_waits_total: 'counter',
      tiercache_lock_timeouts_total: 'counter',
      tiercache_bus_messages_total: 'counter',
      tiercache_bus_gaps_total: 'counter',
      tiercache_evictions_total: 'counter',
      tiercache_expirations_total: 'counter',
      tiercache_entries: 'gauge',
      tiercache_bytes: 'gauge',
      tiercache_loads_in_flight: 'gauge',
      tiercache_window_hit_rate: 'gauge',
      tiercache_predicted_hit_rate: 'gauge',
      tiercache_get_or_load_duration_seconds: 'histogram',
      tiercache_load_duration_seconds: 'histogram',
    };
    for (const [name, type] of Object.entries(expected)) assert.equal(types.get(name), type, name);
    assert.equal(samples.get('tiercache_hits_total{namespace="/users",tier="l1"}'), 1);
    assert.equal(samples.get('tiercache_misses_total{namespace="/users",tier="l1",cause="cold"}'), 1);
    assert.equal(samples.get('tiercache_misses_total{namespace="/",tier="l1",cause="expired"}'), 1);
    assert.equal(samples.get('tiercache_loads_total{namespace="/"}'), 2);
    assert.equal(samples.get('tiercache_load_errors_total{namespace="/"}'), 1);
    assert.equal(samples.get('tiercache_stale_sets_refused_total{namespace="/",by="version"}'), 0);
    assert.equal(samples.get('tiercache_stale_served_total{namespace="/"}'), 0);
    assert.equal(samples.get('tiercache_expirations_total{tier="l1"}'), cache.stats().l1?.expirations);
    assert.equal(cache.stats().l1?.expirations, 2, "'gone' on read, and '1' swept by the next write");
    assert.equal(samples.get('tiercache_entries{tier="l1"}'), cache.stats().l1?.entries);
    assert.equal(samples.get('tiercache_get_or_load_duration_seconds_count{namespace="/users",outcome="miss"}'), 1);
    assert.equal(samples.get('tiercache_load_duration_seconds_count{namespace="/",outcome="error"}'), 1);
    registration.unregister();
    assert.equal((await registry.metrics()).trim(), '');
  });
});

describe('warming up', () => {
  it('calls a cold start a cold start, not a misconfiguration', async () => {
    const { cache } = newCache({ ttl: '1h', l1: { maxEntries: 10_000 }, health: { minRequests: 100 } });
    for (let i = 0; i < 500; i++) await cache.getOrLoad(`k${i}`, one);
    const health = cache.stats().health as HealthReport;
    assert.equal(health.healthy, false);
    assert.equal(health.diagnosis?.cause, 'warming-up');
    assert.match(health.diagnosis?.message ?? '', /still filling/);
  });
});
