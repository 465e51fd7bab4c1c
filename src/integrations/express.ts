/**
 * Express response caching (`tiercache/express`), with the Fastify plugin's HTTP semantics: a cached
 * GET/HEAD 200 carries an `ETag` (a matching `If-None-Match` gets `304`), `Cache-Control: public,
 * max-age` from the TTL and `Vary`, with one entry per value of each `vary` request header; responses
 * are kept in the cache's `http` namespace, so every instance on the same shared tier serves them.
 *
 * ```ts
 * app.get('/menus/:id', cacheResponses(cache, { ttl: '30s', vary: ['accept-language'] }), handler);
 * ```
 *
 * The response is captured where Express hands it to Node (`res.end`), so `res.send`, `res.json` and
 * `res.end` all work; a streamed response (`res.write`) and any status but 200 pass through uncached.
 * A captured response leaves once the cache holds it, so the next request finds it. Two requests that
 * miss together both run the handler: collapse the database work inside it with `cache.getOrLoad`.
 * Express is not imported: the middleware only uses Node's request and response.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
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

/** An Express middleware: `(req, res, next)`. */
export type Middleware = (request: IncomingMessage, response: ServerResponse, next: (error?: unknown) => void) => void;

/**
 * A middleware caching the responses of the routes it is put on.
 * @throws ConfigError for an invalid `ttl`, at once.
 */
export function cacheResponses(cache: Cache, caching: RouteCaching): Middleware {
  const ttlMs = ttlOf(caching); // validated here, once
  const responses = cache.namespace('http');
  return (request, response, next) => {
    if (!cacheable(request.method ?? '')) return next();
    // Express rewrites `url` inside routers; `originalUrl` is what the client asked for.
    const url = (request as { originalUrl?: string }).originalUrl ?? request.url ?? '';
    const key = keyOf({ method: request.method as string, url, headers: request.headers }, caching);
    responses.get<CachedResponse>(key).then(
      (cached) => {
        if (cached === undefined) {
          capture(response, (entry) => responses.set(key, entry, { ttl: ttlMs }).catch(() => undefined), caching);
          return next();
        }
        const reply = header(response);
        headers(reply, cached, caching);
        if (matches(request.headers['if-none-match'], cached.etag)) {
          response.statusCode = 304;
          return response.end();
        }
        if (cached.contentType !== undefined) response.setHeader('content-type', cached.contentType);
        response.statusCode = 200;
        response.end(cached.body);
      },
      (error: unknown) => next(error),
    );
  };
}

/** Node's response in the shape `headers()` writes to. */
function header(response: ServerResponse): { header(name: string, value: string): unknown } {
  return { header: (name, value) => response.setHeader(name, value) };
}

/**
 * Holds back the end of a 200 response sent in one piece until `store` has cached it, with the caching
 * headers added; anything else goes out untouched.
 */
function capture(
  response: ServerResponse,
  store: (entry: CachedResponse) => Promise<unknown>,
  caching: RouteCaching,
): void {
  const write = response.write;
  const end = response.end;
  let streamed = false;
  response.write = function (this: ServerResponse, ...args: unknown[]) {
    streamed = true;
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof response.write;
  response.end = function (this: ServerResponse, ...args: unknown[]) {
    const body = streamed ? undefined : bodyText(args[0]);
    if (body === undefined || response.statusCode !== 200 || response.headersSent) {
      return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
    }
    const entry = responseEntry(body, response.getHeader('content-type'), caching);
    headers(header(response), entry, caching);
    void store(entry).then(() => (end as (...a: unknown[]) => ServerResponse).apply(this, args));
    return this;
  } as typeof response.end;
}
