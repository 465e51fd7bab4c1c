/**
 * Real Redis servers for integration tests: each test file starts its own `redis-server` processes on
 * free ports (never the machine's shared one on 6379) and stops them afterwards.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { promisify } from 'node:util';
import { createRedisTier, type RedisTier } from '../../src/index.js';

const run = promisify(execFile);
const READY_TIMEOUT_MS = 10_000;

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-p', String(port), ...args]);
  return stdout.trim();
}

async function waitFor(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Kills a server process at once (SIGKILL), as a crash would, and waits for it to exit. */
export async function killChild(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/** One redis-server process. */
export class RedisServer {
  readonly port: number;
  readonly #dir: string;
  readonly #extra: string[];
  /** Arguments redis-cli needs to reach this server (TLS, a user), before the command. */
  readonly cliArgs: string[];
  #process: ChildProcess | undefined;

  private constructor(port: number, dir: string, extra: string[], cliArgs: string[]) {
    this.port = port;
    this.#dir = dir;
    this.#extra = extra;
    this.cliArgs = cliArgs;
  }

  /**
   * Starts a server on a free port and waits until it answers PING. `extra` goes to redis-server; `tls`
   * moves the port to TLS (`--port 0 --tls-port <port>`, add the certificate options to `extra`);
   * `cliArgs` is what redis-cli needs to reach it then.
   */
  static async start(
    extra: string[] = [],
    options: { readonly tls?: boolean; readonly cliArgs?: string[] } = {},
  ): Promise<RedisServer> {
    const port = await freePort();
    const tlsArgs = options.tls === true ? ['--port', '0', '--tls-port', String(port)] : [];
    const dir = mkdtempSync(join(tmpdir(), 'tiercache-redis-'));
    const server = new RedisServer(port, dir, [...tlsArgs, ...extra], options.cliArgs ?? []);
    await server.restart();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port, with the same data directory. */
  async restart(): Promise<void> {
    this.#process = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        this.#dir,
        ...this.#extra,
      ],
      { stdio: 'ignore' },
    );
    await waitFor(async () => (await this.cli('PING')) === 'PONG', `redis-server on ${this.port}`);
  }

  /** Kills the process at once (SIGKILL), as a crash would. */
  kill(): Promise<void> {
    return killChild(this.#process);
  }

  /** Runs a redis-cli command against this server. */
  cli(...args: string[]): Promise<string> {
    return cli(this.port, ...this.cliArgs, ...args);
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** A Redis Cluster of `masters` masters, each with `replicas` replicas, built with `redis-cli --cluster create`. */
export class RedisCluster {
  readonly servers: RedisServer[];

  private constructor(servers: RedisServer[]) {
    this.servers = servers;
  }

  static async start(masters = 3, replicas = 0): Promise<RedisCluster> {
    const servers = await Promise.all(
      Array.from({ length: masters * (1 + replicas) }, () =>
        RedisServer.start([
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          '2000',
        ]),
      ),
    );
    await run('redis-cli', [
      '--cluster',
      'create',
      ...servers.map((s) => `127.0.0.1:${s.port}`),
      '--cluster-replicas',
      String(replicas),
      '--cluster-yes',
    ]);
    for (const server of servers) {
      await waitFor(async () => (await server.cli('CLUSTER', 'INFO')).includes('cluster_state:ok'), 'cluster_state:ok');
    }
    if (replicas > 0) {
      // Every replica has finished its first sync, so a failover right away loses nothing.
      for (const server of servers) {
        await waitFor(async () => {
          const info = await server.cli('INFO', 'replication');
          return info.includes('role:master') || info.includes('master_link_status:up');
        }, 'replicas in sync');
      }
    }
    return new RedisCluster(servers);
  }

  /** The servers that are masters now (they change with a failover). */
  async masters(): Promise<RedisServer[]> {
    const roles = await Promise.all(
      this.servers.map(async (server) => (await server.cli('ROLE').catch(() => '')).split('\n')[0]),
    );
    return this.servers.filter((_, i) => roles[i] === 'master');
  }

  /** The servers that are replicas now. */
  async replicas(): Promise<RedisServer[]> {
    const roles = await Promise.all(
      this.servers.map(async (server) => (await server.cli('ROLE').catch(() => '')).split('\n')[0]),
    );
    return this.servers.filter((_, i) => roles[i] === 'slave');
  }

  /** Waits until every live node reports cluster_state:ok. */
  async settled(live: readonly RedisServer[] = this.servers): Promise<void> {
    for (const server of live) {
      await waitFor(async () => (await server.cli('CLUSTER', 'INFO')).includes('cluster_state:ok'), 'cluster_state:ok');
    }
  }

  /** Seed URLs for a Cluster client. */
  get urls(): string[] {
    return this.servers.map((s) => s.url);
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.stop()));
  }
}

/**
 * A master, one replica and one sentinel (quorum 1) watching them as `name`: enough for node-redis's
 * Sentinel client to find the master and for `SENTINEL FAILOVER` to promote the replica.
 */
export class RedisSentinelGroup {
  readonly name = 'tiercache-test';
  readonly master: RedisServer;
  readonly replica: RedisServer;
  readonly sentinelPort: number;
  readonly #dir: string;
  readonly #process: ChildProcess;

  private constructor(master: RedisServer, replica: RedisServer, port: number, dir: string, child: ChildProcess) {
    this.master = master;
    this.replica = replica;
    this.sentinelPort = port;
    this.#dir = dir;
    this.#process = child;
  }

  static async start(): Promise<RedisSentinelGroup> {
    const master = await RedisServer.start();
    const replica = await RedisServer.start(['--replicaof', '127.0.0.1', String(master.port)]);
    await waitFor(async () => (await replica.cli('INFO', 'replication')).includes('master_link_status:up'), 'replica');
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'tiercache-sentinel-'));
    const config = join(dir, 'sentinel.conf');
    // A sentinel rewrites its config file, so it gets one of its own.
    writeFileSync(
      config,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `dir ${dir}`,
        `sentinel monitor tiercache-test 127.0.0.1 ${master.port} 1`,
        'sentinel down-after-milliseconds tiercache-test 1000',
        'sentinel failover-timeout tiercache-test 5000',
        '',
      ].join('\n'),
    );
    const child = spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' });
    const group = new RedisSentinelGroup(master, replica, port, dir, child);
    await waitFor(
      async () => (await cli(port, 'SENTINEL', 'REPLICAS', 'tiercache-test')).includes('slave'),
      'sentinel',
    );
    return group;
  }

  /** The sentinel's URL. */
  get url(): string {
    return `redis://127.0.0.1:${this.sentinelPort}`;
  }

  /** The port of the server the sentinel calls master now. */
  async masterPort(): Promise<number> {
    const reply = await cli(this.sentinelPort, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name);
    return Number(reply.split('\n')[1]);
  }

  /** Promotes the replica (a forced failover) and waits until the sentinel names it master. */
  async failover(): Promise<void> {
    await cli(this.sentinelPort, 'SENTINEL', 'FAILOVER', this.name);
    await waitFor(async () => (await this.masterPort()) === this.replica.port, 'failover');
    await waitFor(async () => (await this.replica.cli('ROLE')).startsWith('master'), 'new master');
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.#process.once('exit', resolve));
    this.#process.kill('SIGKILL');
    await exited;
    await Promise.all([this.master.stop(), this.replica.stop()]);
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

/**
 * A test file's own Redis server and a tier over it, started in `before` and stopped in `after` of the
 * enclosing `describe`. Read `server` and `l2` inside tests (they exist once `before` has run).
 */
export function redisFixture(): { readonly server: RedisServer; readonly l2: RedisTier } {
  let server: RedisServer | undefined;
  let l2: RedisTier | undefined;
  before(async () => {
    server = await RedisServer.start();
    l2 = createRedisTier({ client: server.url });
  });
  after(async () => {
    await l2?.close();
    await server?.stop();
  });
  return {
    get server() {
      return server as RedisServer;
    },
    get l2() {
      return l2 as RedisTier;
    },
  };
}
