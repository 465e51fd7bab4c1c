/**
 * One process of the expiry benchmark: reads one hot key at a steady rate (open loop, 1 ms ticks)
 * through tiercache with a shared Redis tier, for `cycles` TTLs after one TTL of warm-up. Reports, for
 * the measured part: requests, callers that waited on a load (reads no tier answered), loads run here,
 * and latency percentiles.
 */
import { createCache, createRedisTier } from '../dist/index.js';

const [setting = 'off', url = '', key = 'hot', rateArg = '2000', ttlArg = '1000', cyclesArg = '10', loaderArg = '20'] =
  process.argv.slice(2);
const rate = Number(rateArg);
const ttlMs = Number(ttlArg);
const loaderMs = Number(loaderArg);
const PROTECTIONS = {
  off: { earlyRefresh: false },
  xfetch: { earlyRefresh: { beta: 1 } },
  'refresh-ahead': { earlyRefresh: false, refreshAhead: { window: ttlMs / 5 } },
} as const;

const l2 = createRedisTier({ client: url });
const cache = createCache({ ttl: ttlMs, l2, ...PROTECTIONS[setting as keyof typeof PROTECTIONS] });
const loader = async () => {
  await new Promise((resolve) => setTimeout(resolve, loaderMs));
  return { menu: key, at: Date.now() };
};
await l2.waitForFill('\u0000warm-up', 1); // subscribed before the start line
await new Promise<void>((resolve) => {
  process.on('message', (message: { go?: boolean }) => message.go && resolve());
  process.send?.({ ready: true });
});

const latencies: number[] = [];
let measuring = false;
let requests = 0;
const read = async () => {
  const started = performance.now();
  await cache.getOrLoad(key, loader);
  if (measuring) latencies.push(performance.now() - started);
};
const started = performance.now();
const warmUpMs = ttlMs;
const endMs = warmUpMs + Number(cyclesArg) * ttlMs;
let issued = 0;
let before = cache.stats();
await new Promise<void>((resolve) => {
  const timer = setInterval(() => {
    const elapsed = performance.now() - started;
    if (!measuring && elapsed >= warmUpMs) {
      measuring = true;
      before = cache.stats();
    }
    if (elapsed >= endMs) {
      clearInterval(timer);
      resolve();
      return;
    }
    const due = Math.floor((elapsed / 1000) * rate) - issued;
    for (let i = 0; i < due; i++) {
      if (measuring) requests++;
      void read();
    }
    issued += due;
  }, 1);
});
await new Promise((resolve) => setTimeout(resolve, loaderMs * 3)); // let the last reads settle
const after = cache.stats();
latencies.sort((a, b) => a - b);
const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
process.send?.({
  result: {
    requests,
    waits: after.misses - before.misses,
    loads: after.loads - before.loads,
    p50: at(0.5),
    p99: at(0.99),
    max: latencies.at(-1) ?? 0,
  },
});
await cache.close();
await l2.close();
