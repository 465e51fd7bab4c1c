/**
 * `tiercache demo` (what `npm start` runs): seeds the menu database, starts the application
 * instance(s) with their load generators, and serves the dashboard — or, with `--report`, runs
 * headless for `--duration` and prints what the cache saved the database.
 */

import type { Server } from 'node:http';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/index.js';
import type { AppConfig } from './app.js';
import { changeStreamUnsupported, editOutside } from './change-stream.js';
import { ChildInstance, type Instance, LocalInstance } from './instance.js';
import type { LoadSettings } from './load-generator.js';
import { Monitor } from './monitor.js';
import type { Point } from './sample.js';
import { ScenarioRunner } from './scenarios.js';
import { startServer } from './server.js';
import { seedStore } from './store/menu-store.js';
import { openStore } from './store/open-store.js';
import { count, progressBar, StatusLine } from './terminal-ui.js';

export const DEMO_HELP = `tiercache demo — a menu service behind tiercache, with a load generator and a live dashboard

usage: npm start -- [options]        (or: tiercache demo [options])

  --port <n>          dashboard and API port, 0 for any free one     (default 8080)
  --host <addr>       address to listen on                           (default 127.0.0.1)
  --duration <d>      stop after this long, e.g. 30s, 5m             (default: until Ctrl-C; 30s with --report)
  --report            headless: no dashboard; print a summary at the end
  --rate <n>          requests per second of the built-in load (all instances together; 0 = none;
                      default 40,000, less when instances outnumber the cores)
                                                                     (default 40000)
  --skew <s>          Zipf exponent of the menus read (0 = uniform)  (default 1.0)
  --restaurants <n>   menus in the database                          (default 50000)
  --ttl <d>           cache TTL of a menu                            (default 5m)
  --l1-entries <n>    memory tier capacity per instance, in menus   (default 50000)
  --instances <n>     application processes sharing L2 and the bus   (default 1)
  --db <url>          a SQLite path, postgres://… or mysql://…       (default $DATABASE_URL, else .data/menus.db)
  --db-delay <d>      added to every query: a network round trip     (default 2ms for SQLite, 0 otherwise)
  --table <name>      the menu table                                 (default menus)
  --memcached <list>  shared L2: a Memcached pool, host:port,host:port   (default $MEMCACHED_SERVERS)
  --redis <url>       shared L2: redis://host:port, or comma-separated cluster seeds
                                                                     (default $REDIS_URL, else none)
  --seed <n>          random seed of the load                        (default 7)
  --change-stream     invalidate from the database's own change stream too (PostgreSQL with
                      wal_level=logical, or MySQL/MariaDB with a ROW binlog)
  --help              this text

API:  GET /menus/:id   PUT /menus/:id {restaurant, cuisine, items: [{name, price}]}
      GET /api/stats   GET /api/events (SSE)   POST /api/scenarios/:name
`;

/** Bad flags: the message says which and what is expected. */
class UsageError extends Error {}

function wholeNumber(name: string, text: string, min = 1): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min)
    throw new UsageError(`--${name} must be a whole number ≥ ${min}, got ${text}`);
  return n;
}

function duration(name: string, text: string): number {
  try {
    return parseDuration(text, name);
  } catch (error) {
    throw new UsageError(`--${name}: ${(error as Error).message}`);
  }
}

/** Runs the demo with command-line `args`; resolves when it has stopped. */
export async function runDemo(args: readonly string[]): Promise<number> {
  let settings: ReturnType<typeof parse>;
  try {
    settings = parse(args);
  } catch (error) {
    if (!(error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS'))) throw error;
    process.stderr.write(`${(error as Error).message}\n\nSee: npm start -- --help\n`);
    return 2;
  }
  if (settings === 'help') {
    process.stdout.write(DEMO_HELP);
    return 0;
  }
  return demo(settings);
}

function parse(args: readonly string[]) {
  const { values } = parseArgs({
    args: [...args],
    strict: true,
    options: {
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      duration: { type: 'string' },
      report: { type: 'boolean', default: false },
      rate: { type: 'string' },
      skew: { type: 'string', default: '1.0' },
      restaurants: { type: 'string', default: '50000' },
      ttl: { type: 'string', default: '5m' },
      'l1-entries': { type: 'string', default: '50000' },
      instances: { type: 'string', default: '1' },
      db: { type: 'string' },
      'db-delay': { type: 'string' },
      table: { type: 'string', default: 'menus' },
      redis: { type: 'string' },
      memcached: { type: 'string' },
      seed: { type: 'string', default: '7' },
      'change-stream': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) return 'help' as const;
  const database = values.db ?? process.env.DATABASE_URL ?? '.data/menus.db';
  const sqlite = !/^[a-z][a-z0-9+.-]*:\/\//i.test(database);
  const skew = Number(values.skew);
  if (!(skew >= 0 && skew <= 5)) throw new UsageError(`--skew must be a number from 0 to 5, got ${values.skew}`);
  const redis = values.redis ?? process.env.REDIS_URL;
  const memcached = values.memcached ?? process.env.MEMCACHED_SERVERS;
  const durationText = values.duration ?? (values.report ? '30s' : undefined);
  const instances = wholeNumber('instances', values.instances);
  return {
    port: wholeNumber('port', values.port, 0),
    host: values.host,
    durationMs: durationText === undefined ? undefined : duration('duration', durationText),
    report: values.report,
    rate: values.rate === undefined ? defaultRate(instances) : wholeNumber('rate', values.rate, 0),
    instances,
    restaurants: wholeNumber('restaurants', values.restaurants),
    seed: wholeNumber('seed', values.seed, 0),
    skew,
    config: {
      database,
      table: values.table,
      redis: redis === '' ? undefined : redis,
      memcached: memcached === '' ? undefined : memcached,
      ttlMs: duration('ttl', values.ttl),
      l1Entries: wholeNumber('l1-entries', values['l1-entries']),
      dbDelayMs: values['db-delay'] === undefined ? (sqlite ? 2 : 0) : parseDelay(values['db-delay']),
      changeStream: changeStream(values['change-stream'], database),
    } satisfies AppConfig,
  };
}

/** Full load, or less when the instance processes (and the load generator) outnumber the cores. */
const FULL_RATE = 40_000;

/**
 * The default load: 40,000 reads/s while every instance, and the generator, has a core; scaled down past
 * that (measured on 2 cores: 3 instances at 40,000/s failed 17 % of requests, at 20,000/s none).
 */
function defaultRate(instances: number): number {
  const processes = instances === 1 ? 1 : instances + 1;
  return Math.round(FULL_RATE * Math.min(1, availableParallelism() / processes));
}

function changeStream(wanted: boolean, database: string): boolean {
  const unsupported = wanted ? changeStreamUnsupported(database) : undefined;
  if (unsupported !== undefined) throw new UsageError(unsupported);
  return wanted;
}

function parseDelay(text: string): number {
  return text === '0' ? 0 : duration('db-delay', text);
}

async function demo(settings: Exclude<ReturnType<typeof parse>, 'help'>): Promise<number> {
  const out = process.stdout;
  const { config } = settings;

  // Seed once, here, before any instance opens the table.
  const seeder = openStore(config.database, config.table);
  out.write(`Database: ${seeder.description}\n`);
  const seeding = new StatusLine(out, 1000);
  await seedStore(seeder, settings.restaurants, (done, total) =>
    seeding.update(progressBar(done, total, 'menus'), done === total),
  );
  seeding.done();
  await seeder.close();

  const load = (index: number): LoadSettings => ({
    rate: Math.round(settings.rate / settings.instances),
    skew: settings.skew,
    restaurants: settings.restaurants,
    seed: settings.seed + index * 7919,
  });
  const instances: Instance[] =
    settings.instances === 1
      ? [new LocalInstance(config, load(0))]
      : await Promise.all(
          Array.from({ length: settings.instances }, (_, i) => ChildInstance.start({ config, load: load(i) })),
        );
  const tiers =
    config.memcached !== undefined
      ? `L1 + L2 (Memcached ${config.memcached})`
      : config.redis === undefined
        ? 'L1 (in-process)'
        : `L1 + L2 (Redis ${config.redis})`;
  const setup = {
    database: `${seeder.description}, ${count(settings.restaurants)} menus`,
    tiers,
    instances: settings.instances,
    load: `${count(settings.rate)} req/s, Zipf s=${settings.skew}`,
    ttl: `${config.ttlMs / 1000} s`,
    l1Entries: config.l1Entries,
    dbDelay: `${config.dbDelayMs} ms`,
  };
  out.write(
    `Instances: ${settings.instances}, cache ${tiers}, TTL ${setup.ttl}; load ${setup.load} over ${count(settings.restaurants)} menus\n`,
  );

  const monitor = await Monitor.start(instances);
  const scenarios = new ScenarioRunner(instances, monitor, {
    shared: config.redis !== undefined || config.memcached !== undefined,
    restaurants: settings.restaurants,
    ...(config.changeStream ? { editOutside: editOutside(config.database, config.table) } : {}),
  });
  let server: Server | undefined;
  if (!settings.report) {
    const parts = { instances, monitor, scenarios, setup };
    server = await startServer(parts, settings.port, settings.host).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EADDRINUSE') throw error;
      // A second demo, or anything else on the port: take a free one rather than fail the quick start.
      out.write(`Port ${settings.port} is in use; taking a free one (--port to choose).\n`);
      return startServer(parts, 0, settings.host);
    });
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : settings.port;
    out.write(`Dashboard: http://${settings.host}:${port}/   (Ctrl-C to stop)\n`);
  }
  const status = new StatusLine(out, 5000);
  monitor.subscribe((point) => status.update(statusLine(point)));
  scenarios.subscribe((result) => out.write(`\n${result.title}: ${result.summary}\n`));

  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    if (settings.durationMs !== undefined) setTimeout(stop, settings.durationMs).unref();
  });
  status.done();
  const overall = await monitor.overall();
  monitor.stop();
  server?.closeAllConnections();
  await new Promise((resolve) => (server === undefined ? resolve(undefined) : server.close(resolve)));
  await Promise.all(instances.map((i) => i.close()));
  if (settings.report) out.write(report(overall));
  return 0;
}

function statusLine(point: Point): string {
  const hit = point.hitRate === null ? '—' : `${(point.hitRate * 100).toFixed(2)}%`;
  return (
    `${point.t.toFixed(0).padStart(4)}s  ${count(point.rates.requests)} req/s  db ${count(point.rates.dbReads + point.rates.dbWrites)} q/s` +
    `  hit ${hit}  p50 ${point.p50Ms.toFixed(3)} ms  p99 ${point.p99Ms.toFixed(3)} ms` +
    (point.scenario === undefined ? '' : `  [${point.scenario}]`)
  );
}

/** The `--report` summary. */
function report(overall: Point): string {
  const t = overall.totals;
  const queries = t.dbReads + t.dbWrites;
  const hitRate = overall.hitRate ?? 0;
  const rows: [string, string, string][] = [
    [
      'requests',
      count(t.requests),
      `${count(t.requests / overall.t)}/s, ${count(t.errors)} failed, ${count(t.shed)} shed`,
    ],
    ['database queries', count(queries), `${count(t.dbReads)} reads, ${count(t.dbWrites)} writes`],
    [
      'hit rate',
      `${(hitRate * 100).toFixed(2)}%`,
      `L1 ${pct(overall.l1HitRate)}, L2 ${pct(overall.l2HitRate)} (of L1 misses)`,
    ],
    ['offload ratio', `${queries === 0 ? '∞' : (t.requests / queries).toFixed(1)}×`, 'requests per database query'],
    ['loads collapsed', count(t.collapsed), 'callers that joined a load already running'],
    [
      'miss causes',
      count(t.misses),
      `cold ${count(t.cold)}, expired ${count(t.expired)}, evicted ${count(t.evicted)}, invalidated ${count(t.invalidated)}`,
    ],
  ];
  if (t.l2Hits + t.l2Misses + t.l2Errors > 0) {
    rows.splice(3, 0, [
      'shared tier (L2)',
      `${count(t.l2Hits)} hits`,
      `${count(t.l2Misses)} misses, ${count(t.l2Errors)} errors absorbed`,
    ]);
  }
  const lines = rows.map(([label, value, note]) => `  ${label.padEnd(17)} ${value.padStart(12)}   ${note}`);
  const failure = overall.lastError === undefined ? '' : `\nLast failed request: ${overall.lastError}\n`;
  return `\nSummary after ${overall.t.toFixed(1)} s\n${lines.join('\n')}\n${failure}`;
}

const pct = (share: number | null) => (share === null ? '—' : `${(share * 100).toFixed(2)}%`);
