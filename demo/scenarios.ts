/**
 * The dashboard's scenario buttons. Each one does to every instance what happens in production — a
 * hot key expiring under load, an outage, a traffic storm, a bad TTL — and reports, in figures, what
 * the cache did about it. One runs at a time.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command, Instance } from './instance.js';
import type { Monitor } from './monitor.js';
import type { Summed } from './sample.js';

/** A scenario as the dashboard lists it. */
export interface ScenarioInfo {
  readonly name: string;
  readonly title: string;
  /** One line: what it does and what to watch. */
  readonly explanation: string;
  /** Why it cannot run in this setup, if it cannot. */
  readonly unavailable?: string;
}

/** What a finished scenario reports. */
export interface ScenarioResult {
  readonly name: string;
  readonly title: string;
  /** Seconds since the demo started, when it finished. */
  readonly t: number;
  /** One line of figures. */
  readonly summary: string;
  /** The figures, for tests and `tiercache stats`. */
  readonly figures: Readonly<Record<string, number | string>>;
}

/** Concurrent reads of the hottest key right after it is dropped (split across the instances). */
const BURST = 1000;
/** How long the timed scenarios last, in ms (tests shorten them). */
export interface ScenarioDurations {
  readonly outage: number;
  readonly storm: number;
  readonly shortTtl: number;
}
const DURATIONS: ScenarioDurations = { outage: 10_000, storm: 10_000, shortTtl: 15_000 };
/** Menus 1 … this (the most read: Zipf rank r is menu r + 1) expire as the database goes down. */
const EXPIRED_IN_OUTAGE = 1000;
const SHORT_TTL_MS = 100;
/** Menus the "edited outside" scenario changes. */
const EDITED = 20;

/** Runs scenarios against the instances. */
export class ScenarioRunner {
  /** Finished scenarios, oldest first. */
  readonly log: ScenarioResult[] = [];
  readonly #instances: readonly Instance[];
  readonly #monitor: Monitor;
  readonly #shared: boolean;
  readonly #restaurants: number;
  readonly #listeners = new Set<(result: ScenarioResult) => void>();
  readonly #durations: ScenarioDurations;
  /** Edits menus in the database as another application would (raw SQL), with `--change-stream`. */
  readonly #editOutside: ((ids: readonly number[], restaurant: string) => Promise<void>) | undefined;
  #running: string | undefined;

  constructor(
    instances: readonly Instance[],
    monitor: Monitor,
    options: {
      shared: boolean;
      restaurants: number;
      durations?: Partial<ScenarioDurations>;
      editOutside?: (ids: readonly number[], restaurant: string) => Promise<void>;
    },
  ) {
    this.#editOutside = options.editOutside;
    this.#durations = { ...DURATIONS, ...options.durations };
    this.#instances = instances;
    this.#monitor = monitor;
    this.#shared = options.shared;
    this.#restaurants = options.restaurants;
  }

  /** Every scenario, with why it is unavailable where it is. */
  list(): ScenarioInfo[] {
    const { outage, storm, shortTtl } = this.#durations;
    const noRedis = this.#shared ? {} : { unavailable: 'needs a shared tier: start with REDIS_URL=redis://…' };
    return [
      {
        name: 'expire-hottest-off',
        title: 'Expire the hottest key — protections off',
        explanation: `Drops the most-read menu, then ${BURST} reads arrive at once through a plain get → query → set: watch the database spike.`,
      },
      {
        name: 'expire-hottest-on',
        title: 'Expire the hottest key — protections on',
        explanation: `The same, through getOrLoad: single-flight (and the Redis lock across instances) turns ${BURST} misses into one query.`,
      },
      {
        name: 'redis-outage',
        title: `Redis outage for ${outage / 1000} s`,
        explanation: `Every Redis call fails for ${outage / 1000} s: the breaker opens, reads fall through to L1 and the database, no request fails.`,
        ...noRedis,
      },
      {
        name: 'database-outage',
        title: `Database outage for ${outage / 1000} s`,
        explanation: `Every query fails for ${outage / 1000} s and the ${EXPIRED_IN_OUTAGE} most-read menus expire: they are served stale (fail-safe grace), not as errors.`,
      },
      {
        name: 'celebrity-storm',
        title: 'Celebrity key storm',
        explanation: `For ${storm / 1000} s half of all traffic goes to one obscure menu: it tops the hot-key table, the database sees it once.`,
      },
      {
        name: 'edited-outside',
        title: 'Another application edits the database',
        explanation: `Raw SQL UPDATEs ${EDITED} of the hottest menus behind the service's back: the change stream invalidates them, and every instance serves the edit.`,
        ...(this.#editOutside === undefined
          ? {
              unavailable:
                'needs --change-stream (PostgreSQL with wal_level=logical, or MySQL/MariaDB with a ROW binlog)',
            }
          : {}),
      },
      {
        name: 'ttl-too-short',
        title: 'TTL too short',
        explanation: `For ${shortTtl / 1000} s menus are cached for ${SHORT_TTL_MS} ms: the hit rate drops and the health check names the TTL as the cause.`,
      },
    ];
  }

  /** The scenario running now, if any. */
  get running(): string | undefined {
    return this.#running;
  }

  /** Calls `listener` with every result. @returns a function that stops it. */
  subscribe(listener: (result: ScenarioResult) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Starts a scenario in the background.
   * @returns `undefined` when it started, else why not (unknown, unavailable, or another is running).
   */
  start(name: string): { status: 404 | 409 | 400; error: string } | undefined {
    const info = this.list().find((s) => s.name === name);
    if (info === undefined) return { status: 404, error: `no scenario ${name}` };
    if (info.unavailable !== undefined) return { status: 400, error: info.unavailable };
    if (this.#running !== undefined) return { status: 409, error: `${this.#running} is still running` };
    this.#running = name;
    this.#monitor.scenario = name;
    void this.#run(name)
      .catch((error: unknown) => ({ error: error instanceof Error ? error.message : String(error) }))
      .then((figures) => {
        // Free the slot first: a listener told of the result may start the next scenario at once.
        this.#running = undefined;
        this.#monitor.scenario = undefined;
        this.#finish(info, figures);
      });
    return undefined;
  }

  /** Runs a scenario to the end and returns its figures. */
  async run(name: string): Promise<ScenarioResult> {
    const refused = this.start(name);
    if (refused !== undefined) throw new Error(refused.error);
    return new Promise((resolve) => {
      const stop = this.subscribe((result) => {
        if (result.name !== name) return;
        stop();
        resolve(result);
      });
    });
  }

  #finish(info: ScenarioInfo, figures: Record<string, number | string>): void {
    const result: ScenarioResult = {
      name: info.name,
      title: info.title,
      t: this.#monitor.latest?.t ?? 0,
      summary: summarize(info.name, figures),
      figures,
    };
    this.log.push(result);
    for (const listener of this.#listeners) listener(result);
  }

  #all(command: Command): Promise<number[]> {
    return Promise.all(this.#instances.map((i) => i.run(command)));
  }

  /** Totals across instances now (from a fresh round of reports, not the last point). */
  async #totals(): Promise<Record<Summed, number>> {
    return (await this.#monitor.overall()).totals;
  }

  async #run(name: string): Promise<Record<string, number | string>> {
    switch (name) {
      case 'expire-hottest-off':
        return this.#expireHottest(false);
      case 'expire-hottest-on':
        return this.#expireHottest(true);
      case 'redis-outage':
        return this.#during(this.#durations.outage, { op: 'redisDown', down: true }, { op: 'redisDown', down: false });
      case 'database-outage': {
        // Ten seconds are too short for many menus to expire on their own: expire the most-read ones,
        // as a longer outage would, so the fail-safe has something to do.
        await this.#all({ op: 'dbDown', down: true });
        const expire: Command = { op: 'expire', from: 1, to: Math.min(this.#restaurants, EXPIRED_IN_OUTAGE) + 1 };
        if (this.#shared) await this.#instances[0]?.run(expire);
        else await this.#all(expire);
        return this.#during(this.#durations.outage, undefined, { op: 'dbDown', down: false });
      }
      case 'celebrity-storm': {
        // An obscure menu from the tail: cold everywhere until the storm.
        const id = this.#restaurants - 1 - Math.floor(Math.random() * Math.min(100, this.#restaurants - 1));
        // The background load may have read it once (the tail is rare, not never): it stays out of the
        // background load, and is dropped. Each instance's delete also reaches the others over the bus:
        // let those land before the storm, or a late one would drop the copy the storm just loaded.
        await this.#all({ op: 'avoid', id });
        await this.#all({ op: 'forget', id });
        await sleep(300);
        await this.#all({ op: 'watch', id });
        const figures = await this.#during(this.#durations.storm, { op: 'storm', id }, { op: 'storm', id: undefined });
        await this.#all({ op: 'avoid', id: undefined });
        const loads = sum(await this.#all({ op: 'watched' }));
        return { id, loads, ...figures };
      }
      case 'ttl-too-short': {
        await this.#all({ op: 'ttl', ms: SHORT_TTL_MS });
        // Entries cached before carry the long TTL: drop them so the short one shows at once.
        if (this.#shared) await this.#instances[0]?.run({ op: 'clear' });
        else await this.#all({ op: 'clear' });
        let diagnosis = '';
        const stop = this.#monitor.subscribe((point) => {
          diagnosis = point.diagnosis ?? diagnosis;
        });
        const figures = await this.#during(this.#durations.shortTtl, undefined, { op: 'ttl', ms: undefined });
        stop();
        return { ...figures, diagnosis };
      }
      case 'edited-outside':
        return this.#editedOutside();
      default:
        throw new Error(`no scenario ${name}`);
    }
  }

  /**
   * Every instance holds the hottest menus; raw SQL edits them; how long until every instance serves
   * the edit, and how many reads still returned the old menu a second after the commit (should be none).
   */
  async #editedOutside(): Promise<Record<string, number | string>> {
    const hottest = (this.#monitor.latest?.topKeys ?? []).map(([id]) => id);
    const ids = [...new Set([...hottest, ...Array.from({ length: EDITED }, (_, i) => i + 1)])].slice(0, EDITED);
    const readAll = () => Promise.all(this.#instances.flatMap((instance) => ids.map((id) => instance.read(id))));
    await readAll(); // cached everywhere before the edit
    const restaurant = `Edited outside ${new Date().toISOString().slice(11, 19)}`;
    const started = performance.now();
    await (this.#editOutside as (ids: readonly number[], restaurant: string) => Promise<void>)(ids, restaurant);
    let convergedMs = Number.NaN;
    let staleLate = 0;
    while (performance.now() - started < 5_000) {
      const reads = await readAll();
      const stale = reads.filter((read) => read.status === 200 && read.body.restaurant !== restaurant).length;
      if (performance.now() - started > 1_000) staleLate += stale;
      if (stale === 0) {
        convergedMs = performance.now() - started;
        break;
      }
      await sleep(5);
    }
    // A second after the edit, nothing old may be served: read everything once more.
    await sleep(Math.max(0, 1_000 - (performance.now() - started)));
    const after = await readAll();
    staleLate += after.filter((read) => read.status === 200 && read.body.restaurant !== restaurant).length;
    return { menus: ids.length, instances: this.#instances.length, convergedMs: Math.round(convergedMs), staleLate };
  }

  async #expireHottest(protections: boolean): Promise<Record<string, number | string>> {
    const id = this.#monitor.latest?.topKeys[0]?.[0] ?? 1;
    await this.#all({ op: 'protections', on: protections });
    try {
      // The background load leaves the key alone during the burst: a read of it started just before the
      // delete could otherwise store it again in time for the burst to hit (then 1 load, not 1,000).
      await this.#all({ op: 'avoid', id });
      await this.#all({ op: 'watch', id });
      // With Redis, one instance's delete reaches the L2 and, over the bus, every L1: that instance
      // takes the whole burst. Without, each instance drops its own copy and takes a share.
      const perInstance = this.#shared ? BURST : Math.ceil(BURST / this.#instances.length);
      const burst: Command = { op: 'deleteAndBurst', id, count: perInstance };
      if (this.#shared) await this.#instances[0]?.run(burst);
      else await this.#all(burst);
      await this.#all({ op: 'avoid', id: undefined });
      // Background traffic keeps reading the key meanwhile; give it a second to show on the chart.
      await sleep(1000);
      const loads = sum(await this.#all({ op: 'watched' }));
      const burstTotal = this.#shared ? BURST : perInstance * this.#instances.length;
      return { id, protections: protections ? 'on' : 'off', burst: burstTotal, loads };
    } finally {
      await this.#all({ op: 'avoid', id: undefined });
      await this.#all({ op: 'protections', on: true });
    }
  }

  /** Applies `begin`, waits `ms`, applies `end`; reports what the totals did meanwhile. */
  async #during(ms: number, begin: Command | undefined, end: Command): Promise<Record<string, number>> {
    const before = await this.#totals();
    if (begin !== undefined) await this.#all(begin);
    try {
      await sleep(ms);
    } finally {
      await this.#all(end);
    }
    const after = await this.#totals();
    const delta = (name: Summed) => after[name] - before[name];
    const hits = delta('hits');
    const reads = hits + delta('misses');
    return {
      seconds: ms / 1000,
      requests: delta('requests'),
      errors: delta('errors'),
      staleServed: delta('staleServed'),
      l2Errors: delta('l2Errors'),
      dbReads: delta('dbReads'),
      hitRate: reads === 0 ? 0 : hits / reads,
    };
  }
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const n = (value: number | string | undefined) => Number(value ?? 0).toLocaleString('en-US');

/** One line of figures per scenario. */
function summarize(name: string, f: Record<string, number | string>): string {
  if (f.error !== undefined) return `failed: ${f.error}`;
  switch (name) {
    case 'expire-hottest-off':
    case 'expire-hottest-on':
      return `menu ${f.id}, protections ${f.protections}: ${n(f.burst)} concurrent reads caused ${n(f.loads)} database load${f.loads === 1 ? '' : 's'} of it`;
    case 'redis-outage':
      return `${n(f.requests)} requests in ${f.seconds} s, ${n(f.errors)} failed; ${n(f.l2Errors)} Redis errors absorbed, ${n(f.dbReads)} database reads`;
    case 'database-outage':
      return `${n(f.requests)} requests in ${f.seconds} s: ${n(f.staleServed)} answered stale, ${n(f.errors)} failed (menus not in the cache at all)`;
    case 'celebrity-storm':
      return `menu ${f.id} took half of ${n(f.requests)} requests for ${f.seconds} s; the database loaded it ${n(f.loads)} time${f.loads === 1 ? '' : 's'}`;
    case 'edited-outside':
      return `${f.menus} menus edited by raw SQL: all ${f.instances} instance(s) served the edit after ${f.convergedMs} ms; ${f.staleLate} stale reads a second after the commit`;
    case 'ttl-too-short':
      return `hit rate ${(Number(f.hitRate) * 100).toFixed(1)}% over ${f.seconds} s, ${n(f.dbReads)} database reads; diagnosis: ${f.diagnosis || 'none yet'}`;
    default:
      return JSON.stringify(f);
  }
}
