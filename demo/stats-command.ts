/** `tiercache stats <url>`: a running demo's figures, fetched from its `/api/stats`, for a terminal. */
import type { Point } from './sample.js';
import type { ScenarioResult } from './scenarios.js';
import { count } from './terminal-ui.js';

interface StatsResponse {
  readonly setup: Record<string, string | number>;
  readonly point: Point | null;
  readonly overall: Point;
  readonly scenarios: readonly ScenarioResult[];
}

const pct = (share: number | null) => (share === null ? '—' : `${(share * 100).toFixed(2)}%`);

/** Prints the stats of the demo at `url`; returns the exit code. */
export async function printStats(url: string | undefined): Promise<number> {
  if (url === undefined) {
    process.stderr.write('usage: tiercache stats <url of a running demo>, e.g. http://127.0.0.1:8080\n');
    return 2;
  }
  let stats: StatsResponse;
  try {
    const response = await fetch(new URL('/api/stats', url));
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    stats = (await response.json()) as StatsResponse;
  } catch (error) {
    process.stderr.write(
      `cannot read ${url}/api/stats: ${(error as Error).message}. Is the demo running (npm start)?\n`,
    );
    return 1;
  }
  const { overall, point } = stats;
  const t = overall.totals;
  const lines = [
    `${stats.setup.database}; ${stats.setup.tiers}; ${stats.setup.instances} instance(s); ${stats.setup.load}`,
    '',
    `since start (${overall.t.toFixed(0)} s): ${count(t.requests)} requests, ${count(t.dbReads + t.dbWrites)} database queries, hit rate ${pct(overall.hitRate)}`,
    `  miss causes: cold ${count(t.cold)}, expired ${count(t.expired)}, evicted ${count(t.evicted)}, invalidated ${count(t.invalidated)}`,
    `  stale served ${count(t.staleServed)}, loads collapsed ${count(t.collapsed)}, L2 errors absorbed ${count(t.l2Errors)}`,
  ];
  if (point !== null) {
    lines.push(
      '',
      `last second: ${count(point.rates.requests)} req/s, ${count(point.rates.dbReads)} db reads/s, hit rate ${pct(point.hitRate)} (L1 ${pct(point.l1HitRate)}, L2 ${pct(point.l2HitRate)}), p50 ${point.p50Ms.toFixed(3)} ms, p99 ${point.p99Ms.toFixed(3)} ms`,
      `health: ${point.diagnosis ?? 'hit rate fine'}`,
      '',
      'hot keys (cache.hotKeys(), estimated reads/s):',
      ...point.topKeys.map(([id, reads]) => `  menu:${String(id).padEnd(8)} ${count(reads).padStart(8)}`),
    );
  }
  for (const result of stats.scenarios.slice(-5)) lines.push(`scenario ${result.title}: ${result.summary}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}
