/** examples/grafana-dashboard.json only queries metrics the Prometheus exporter really registers. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createCache, registerPrometheus } from '../../src/index.js';

describe('the Grafana dashboard', () => {
  it('queries only registered metric names (histograms by their _bucket series)', async () => {
    const dashboard = JSON.parse(
      readFileSync(new URL('../../examples/grafana-dashboard.json', import.meta.url), 'utf8'),
    ) as { panels: { title: string; targets: { expr: string }[] }[] };
    const registry = new Registry();
    const cache = createCache({ ttl: '1m' });
    const registration = registerPrometheus(cache, { registry });
    const registered = new Set<string>();
    for (const metric of await registry.getMetricsAsJSON()) {
      registered.add(metric.name);
      if (String(metric.type) === 'histogram')
        for (const suffix of ['_bucket', '_sum', '_count']) registered.add(metric.name + suffix);
    }
    const used = new Set<string>();
    for (const panel of dashboard.panels) {
      assert.ok(panel.targets.length > 0, `${panel.title} has queries`);
      for (const { expr } of panel.targets) for (const [name] of expr.matchAll(/tiercache_[a-z_0-9]+/g)) used.add(name);
    }
    assert.ok(used.size >= 15, `the dashboard uses ${used.size} metrics`);
    for (const name of used) assert.ok(registered.has(name), `${name} is not a metric the exporter registers`);
    registration.unregister();
    await cache.close();
  });
});
