/**
 * The demo's HTTP face: the menu API (`GET`/`PUT /menus/:id`, spread over the instances), the
 * dashboard (one static page plus uPlot), its live feed (`/api/events`, server-sent events), the
 * figures `tiercache stats` reads (`/api/stats`), and the scenario buttons (`POST /api/scenarios/:name`).
 */
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Instance } from './instance.js';
import type { Monitor } from './monitor.js';
import type { ApiResult } from './sample.js';
import type { ScenarioRunner } from './scenarios.js';
import { MenuInput } from './store/menu.js';

/** The largest `PUT` body accepted; a menu of 100 items fits many times over. */
export const MAX_BODY_BYTES = 64 * 1024;
const LARGEST_ID = 2 ** 31 - 1;

const DASHBOARD = fileURLToPath(new URL('./dashboard/', import.meta.url));
const UPLOT = dirname(createRequire(import.meta.url).resolve('uplot'));
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: join(DASHBOARD, 'index.html'), type: 'text/html; charset=utf-8' },
  '/dashboard.js': { file: join(DASHBOARD, 'dashboard.js'), type: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { file: join(DASHBOARD, 'dashboard.css'), type: 'text/css; charset=utf-8' },
  '/uPlot.iife.min.js': { file: join(UPLOT, 'uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  '/uPlot.min.css': { file: join(UPLOT, 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

/** What the server serves. */
export interface ServerParts {
  readonly instances: readonly Instance[];
  readonly monitor: Monitor;
  readonly scenarios: ScenarioRunner;
  /** Shown on the dashboard: database, tiers, load. */
  readonly setup: Readonly<Record<string, string | number>>;
}

/** Starts the server on `port` (0: any free one) and resolves once it listens. */
export async function startServer(parts: ServerParts, port: number, host = '127.0.0.1'): Promise<Server> {
  let next = 0;
  // Round robin: each API request goes to the next instance, as a load balancer would send it.
  const pick = () => parts.instances[next++ % parts.instances.length] as Instance;
  const server = createServer((request, response) => {
    handle(request, response, parts, pick).catch((error: unknown) => {
      if (!response.headersSent) send(response, 500, { error: error instanceof Error ? error.message : String(error) });
      else response.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  parts: ServerParts,
  pick: () => Instance,
): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://demo');
  const path = url.pathname;
  const method = request.method ?? 'GET';

  const menu = /^\/menus\/([^/]*)$/.exec(path);
  if (menu !== null) {
    const id = parseId(menu[1] as string);
    if (id === undefined) return send(response, 400, { error: `a menu id is a whole number from 1 to ${LARGEST_ID}` });
    if (method === 'GET') return reply(response, await pick().read(id));
    if (method === 'PUT') {
      const body = await readBody(request, response);
      if (body === undefined) return;
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        return send(response, 400, { error: 'the body is not JSON' });
      }
      const input = MenuInput.safeParse(json);
      if (!input.success) {
        const issues = input.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
        return send(response, 422, { error: 'not a menu', issues });
      }
      return reply(response, await pick().write(id, input.data));
    }
    return send(response, 405, { error: 'GET or PUT' }, { allow: 'GET, PUT' });
  }

  if (method === 'GET' && path === '/api/stats') {
    return send(response, 200, {
      setup: parts.setup,
      point: parts.monitor.latest ?? null,
      overall: await parts.monitor.overall(),
      scenarios: parts.scenarios.log,
    });
  }
  if (method === 'GET' && path === '/api/scenarios') return send(response, 200, parts.scenarios.list());
  const scenario = /^\/api\/scenarios\/([a-z-]+)$/.exec(path);
  if (scenario !== null) {
    if (method !== 'POST') return send(response, 405, { error: 'POST' }, { allow: 'POST' });
    const refused = parts.scenarios.start(scenario[1] as string);
    return refused === undefined
      ? send(response, 202, { started: scenario[1] })
      : send(response, refused.status, refused);
  }
  if (method === 'GET' && path === '/api/events') return events(request, response, parts);

  if (path === '/favicon.ico') {
    response.writeHead(204).end();
    return;
  }
  const file = method === 'GET' ? STATIC[path] : undefined;
  if (file !== undefined) {
    response.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache' });
    response.end(await readFile(file.file));
    return;
  }
  send(response, 404, { error: `nothing at ${method} ${path}` });
}

/** The live feed: setup, scenarios and history first, then every point and scenario result as it happens. */
function events(request: IncomingMessage, response: ServerResponse, parts: ServerParts): void {
  response.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
  });
  const emit = (event: string, data: unknown) => response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  emit('hello', {
    setup: parts.setup,
    scenarios: parts.scenarios.list(),
    history: parts.monitor.history,
    log: parts.scenarios.log,
  });
  const stopPoints = parts.monitor.subscribe((point) => emit('point', point));
  const stopResults = parts.scenarios.subscribe((result) => emit('scenario', result));
  request.on('close', () => {
    stopPoints();
    stopResults();
  });
}

function parseId(text: string): number | undefined {
  if (!/^[1-9][0-9]{0,9}$/.test(text)) return undefined;
  const id = Number(text);
  return id <= LARGEST_ID ? id : undefined;
}

/** The body as text, or `undefined` after answering 413 when it is larger than {@link MAX_BODY_BYTES}. */
async function readBody(request: IncomingMessage, response: ServerResponse): Promise<string | undefined> {
  const declared = Number(request.headers['content-length'] ?? 0);
  const tooLarge = () => {
    send(response, 413, { error: `a menu body is at most ${MAX_BODY_BYTES} bytes` }, { connection: 'close' });
    request.resume();
    return undefined;
  };
  if (declared > MAX_BODY_BYTES) return tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function reply<T>(response: ServerResponse, result: ApiResult<T>): void {
  if (result.status === 200) send(response, 200, result.body);
  else send(response, result.status, { error: result.error });
}

function send(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  response.end(JSON.stringify(body));
}
