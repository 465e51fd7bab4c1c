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
import type { Cache } from '../cache/api.js';
import {
  bodyText,
  type CachedResponse,
  cacheable,
  headers,
  keyOf,
  matches,
  type RouteCaching,
  responseEntry,
  ttlOf,
} from './http-caching.js';

export type { RouteCaching } from './http-caching.js';

/** Options of the plugin. */
export interface TiercachePluginOptions {
  /** The cache to decorate the instance with and to keep responses in (in its `http` namespace). */
  readonly cache: Cache;
  /** Whether closing the instance closes the cache. Default: `true`. */
  readonly closeCache?: boolean;
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
    if (caching === undefined || !cacheable(request.method)) return;
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
    const body = bodyText(payload);
    if (body === undefined) return payload; // a stream, or binary bytes: not cached
    const cached = responseEntry(body, reply.getHeader('content-type'), pending.caching);
    await responses.set(pending.key, cached, { ttl: ttlOf(pending.caching) }).catch(() => undefined);
    headers(reply, cached, pending.caching);
    return payload;
  }) as never);
}

// Fastify's own markers: register on the instance itself (no encapsulation), under this name.
Object.assign(tiercache, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'tiercache',
});
