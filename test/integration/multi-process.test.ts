import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Instance } from '../helpers/instances.js';
import { RedisCluster, RedisServer } from '../helpers/redis-server.js';

interface StampedeResult {
  loaderCalls: number;
  distinct: string[];
  latencies: number[];
}

const PROCESSES = 4;
const CALLERS = 2500;
const LOADER_MS = 50;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

async function stampede(instances: Instance[], key: string): Promise<void> {
  const results = await Promise.all(
    instances.map((instance) =>
      instance.send<StampedeResult>({ op: 'stampede', key, concurrency: CALLERS, loaderMs: LOADER_MS }),
    ),
  );
  const totalLoads = results.reduce((sum, r) => sum + r.loaderCalls, 0);
  const values = new Set(results.flatMap((r) => r.distinct));
  const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
  console.log(
    `  ${PROCESSES} processes × ${CALLERS} callers, ${LOADER_MS} ms loader: ${totalLoads} load(s); ` +
      `caller latency p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${(latencies.at(-1) as number).toFixed(1)} ms`,
  );
  assert.equal(totalLoads, 1, 'the loader runs exactly once across all processes');
  assert.equal(values.size, 1, 'all 10,000 callers get the same value');
  assert.equal(latencies.length, PROCESSES * CALLERS);
}

describe('several OS processes sharing a standalone Redis', () => {
  let server: RedisServer;
  let instances: Instance[];

  before(async () => {
    server = await RedisServer.start();
    instances = await Promise.all(Array.from({ length: PROCESSES }, () => Instance.start({ url: server.url })));
  });
  after(async () => {
    await Promise.all(instances.map((i) => i.stop()));
    await server.stop();
  });

  it('runs the loader exactly once for 4 × 2,500 concurrent callers of one cold key', async () => {
    await stampede(instances, 'cold-key');
  });

  it('removes the L1 copy on the other instances after a set or delete, and measures how fast', async () => {
    const [writer, b, c] = instances as [Instance, Instance, Instance];
    await writer.send({ op: 'load', key: 'menu', value: 'v1' });
    await b.send({ op: 'load', key: 'menu', value: 'v1' });
    await c.send({ op: 'load', key: 'menu', value: 'v1' }); // b and c now hold v1 in their L1
    const delays: number[] = [];
    for (let round = 2; round <= 6; round++) {
      const watching = [b, c].map((i) => i.send<number>({ op: 'waitFor', key: 'menu', value: `v${round}` }));
      const writtenAt = await writer.send<number>({ op: 'set', key: 'menu', value: `v${round}` });
      for (const seenAt of await Promise.all(watching)) delays.push(Math.max(0, seenAt - writtenAt));
    }
    const deletedWatch = [b, c].map((i) => i.send<number>({ op: 'waitFor', key: 'menu', value: undefined }));
    const deletedAt = await writer.send<number>({ op: 'delete', key: 'menu' });
    for (const seenAt of await Promise.all(deletedWatch)) delays.push(Math.max(0, seenAt - deletedAt));
    delays.sort((x, y) => x - y);
    console.log(`  invalidation reached the other instances' L1 in ${delays.join(', ')} ms (max ${delays.at(-1)} ms)`);
    const stats = await b.send<{ bus: { received: number } }>({ op: 'stats' });
    assert.ok(stats.bus.received >= 6, `instance b received ${stats.bus.received} invalidations`);
  });
});

describe('several OS processes sharing a 3-master Redis Cluster', () => {
  let cluster: RedisCluster;
  let instances: Instance[];

  before(async () => {
    cluster = await RedisCluster.start(3);
    instances = await Promise.all(Array.from({ length: PROCESSES }, () => Instance.start({ urls: cluster.urls })));
  });
  after(async () => {
    await Promise.all(instances.map((i) => i.stop()));
    await cluster.stop();
  });

  it('runs the loader exactly once for 4 × 2,500 concurrent callers of one cold key', async () => {
    await stampede(instances, 'cold-key');
  });
});
