/**
 * A Fastify plugin (`tiercache/fastify`): decorates the instance with a cache (`fastify.cache`), closes it
 * when the instance closes, and caches the responses of the routes that ask for it, with HTTP's own
 * semantics — an `ETag` on every cached response and `304 Not Modified` for a matching `If-None-Match`,
 * `Cache-Control: max-age` from the TTL, and a separate entry per value of each `Vary` request header.
 * The conventions follow `@fastify/caching`.
 *
 * ```ts
 * app.register(tiercache, { cache });
 * app.get('/menus/:id', { config: { tiercache: { ttl: '30s', vary: ['accept-language'] } } }, handler);
 * ```
 *
 * Only GET and HEAD answered 200 are cached. Two requests that miss together both run the handler (the
 * hooks cannot hand one request's reply to another); the handler's own `cache.getOrLoad` collapses the
 * database work. Fastify is not imported: the plugin only uses the instance it is given.
 */
import { createHash } from 'node:crypto';
import type { Cache } from '../cache/api.js';
import { parseDuration } from '../options/validate.js';
import type { Duration } from '../options.js';

/** A route's response caching: `config: { tiercache: { ttl, vary } }`. */
export interface RouteCaching {
  /** How long the response is cached (and `Cache-Control: max-age`). */
  readonly ttl: Duration;
  /** Request headers whose values select different cached responses (sent back as `Vary`). */
  readonly vary?: readonly string[];
}

/** Options of the plugin. */
export interface TiercachePluginOptions {
  /** The cache to decorate the instance with and to keep responses in (in its `http` namespace). */
  readonly cache: Cache;
  /** Whether closing the instance closes the cache. Default: `true`. */
  readonly closeCache?: boolean;
}

/** A cached response: plain data, so the shared tier can hold it too. */
interface CachedResponse {
  readonly body: string;
  readonly contentType?: string;
  readonly etag: string;
  readonly expiresAt: number;
}

/** What the plugin needs of a Fastify instance (structural, so Fastify stays an optional peer). */
interface FastifyLike {
  decorate(name: string, value: unknown): unknown;
  addHook(name: string, hook: (...args: never[]) => unknown): unknown;
}
interface RequestLike {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  routeOptions?: { config?: { tiercache?: RouteCaching } };
}
interface ReplyLike {
  statusCode: number;
  header(name: string, value: string): ReplyLike;
  getHeader(name: string): unknown;
  code(status: number): ReplyLike;
  send(payload?: unknown): ReplyLike;
}

/** The state a request carries from `onRequest` to `onSend`. */
const PENDING = Symbol('tiercache.pending');

/** The plugin. Register it with `app.register(tiercache, { cache })`. */
export async function tiercache(fastify: FastifyLike, options: TiercachePluginOptions): Promise<void> {
  const { cache } = options;
  const responses = cache.namespace('http');
  fastify.decorate('cache', cache);
  if (options.closeCache ?? true) fastify.addHook('onClose', (async () => cache.close()) as never);

  fastify.addHook('onRequest', (async (request: RequestLike, reply: ReplyLike) => {
    const caching = request.routeOptions?.config?.tiercache;
    if (caching === undefined || (request.method !== 'GET' && request.method !== 'HEAD')) return;
    const key = keyOf(request, caching);
    const cached = await responses.get<CachedResponse>(key);
    if (cached === undefined) {
      (request as unknown as Record<symbol, unknown>)[PENDING] = { key, caching };
      return;
    }
    headers(reply, cached, caching);
    if (matches(request.headers['if-none-match'], cached.etag)) return reply.code(304).send();
    if (cached.contentType !== undefined) reply.header('content-type', cached.contentType);
    return reply.send(cached.body);
  }) as never);

  fastify.addHook('onSend', (async (request: RequestLike, reply: ReplyLike, payload: unknown) => {
    const pending = (request as unknown as Record<symbol, { key: string; caching: RouteCaching } | undefined>)[PENDING];
    if (pending === undefined || reply.statusCode !== 200) return payload;
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload; // a stream: not cached
    const body = String(payload);
    const ttlMs = parseDuration(pending.caching.ttl, 'tiercache.ttl');
    const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
    const contentType = reply.getHeader('content-type');
    const cached: CachedResponse = {
      body,
      etag,
      expiresAt: Date.now() + ttlMs,
      ...(typeof contentType === 'string' ? { contentType } : {}),
    };
    await responses.set(pending.key, cached, { ttl: ttlMs }).catch(() => undefined);
    headers(reply, cached, pending.caching);
    return payload;
  }) as never);
}

// Fastify's own markers: register on the instance itself (no encapsulation), under this name.
Object.assign(tiercache, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'tiercache',
});

/** The cache key of a request: method, URL, and the values of the route's `vary` headers. */
function keyOf(request: RequestLike, caching: RouteCaching): string {
  let key = `${request.method === 'HEAD' ? 'GET' : request.method} ${request.url}`;
  for (const name of caching.vary ?? []) {
    const value = request.headers[name.toLowerCase()];
    key += `\n${name.toLowerCase()}: ${Array.isArray(value) ? value.join(', ') : (value ?? '')}`;
  }
  return key;
}

function headers(reply: ReplyLike, cached: CachedResponse, caching: RouteCaching): void {
  const maxAge = Math.max(0, Math.floor((cached.expiresAt - Date.now()) / 1000));
  reply.header('etag', cached.etag);
  reply.header('cache-control', `public, max-age=${maxAge}`);
  if (caching.vary !== undefined && caching.vary.length > 0) reply.header('vary', caching.vary.join(', '));
}

/** Whether an `If-None-Match` header names the ETag (or is `*`). Weak comparison, as RFC 9110 asks for GET. */
function matches(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const tags = (Array.isArray(header) ? header.join(',') : header).split(',').map((t) => t.trim().replace(/^W\//, ''));
  return tags.includes('*') || tags.includes(etag);
}
