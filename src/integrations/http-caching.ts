/**
 * HTTP response caching shared by `tiercache/fastify` and `tiercache/express`: what a cached response
 * holds, its key (method, URL and the route's `Vary` headers), its headers (`ETag`, `Cache-Control`,
 * `Vary`) and the `If-None-Match` comparison. Framework-free: each integration adapts its own request
 * and reply to these shapes.
 */
import { createHash } from 'node:crypto';
import { parseDuration } from '../options/validate.js';
import type { Duration } from '../options.js';

/** A route's response caching (Fastify: `config: { tiercache: { ttl, vary } }`). */
export interface RouteCaching {
  /** How long the response is cached (and `Cache-Control: max-age`). */
  readonly ttl: Duration;
  /** Request headers whose values select different cached responses (sent back as `Vary`). */
  readonly vary?: readonly string[];
}

/** A cached response: plain data, so the shared tier can hold it too. */
export interface CachedResponse {
  readonly body: string;
  readonly contentType?: string;
  readonly etag: string;
  readonly expiresAt: number;
}

/** What the key needs of a request. */
export interface RequestHead {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
}

/** Only GET and HEAD are cached (HEAD shares GET's entry). */
export function cacheable(method: string): boolean {
  return method === 'GET' || method === 'HEAD';
}

/**
 * A response body as the text an entry holds: a string, or a Buffer of valid UTF-8; `undefined` for
 * anything else (a stream, binary bytes a string would mangle), which is then not cached.
 */
export function bodyText(payload: unknown): string | undefined {
  if (typeof payload === 'string') return payload;
  if (!Buffer.isBuffer(payload)) return undefined;
  const text = payload.toString('utf8');
  return Buffer.byteLength(text) === payload.length && Buffer.from(text).equals(payload) ? text : undefined;
}

/** The entry for a response body about to be sent with status 200. */
export function responseEntry(body: string, contentType: unknown, caching: RouteCaching): CachedResponse {
  return {
    body,
    etag: `"${createHash('sha1').update(body).digest('base64url')}"`,
    expiresAt: Date.now() + ttlOf(caching),
    ...(typeof contentType === 'string' ? { contentType } : {}),
  };
}

/** The TTL of a route's entries, in ms. */
export function ttlOf(caching: RouteCaching): number {
  return parseDuration(caching.ttl, 'tiercache.ttl');
}

/** The cache key of a request: method, URL, and the values of the route's `vary` headers. */
export function keyOf(request: RequestHead, caching: RouteCaching): string {
  let key = `${request.method === 'HEAD' ? 'GET' : request.method} ${request.url}`;
  for (const name of caching.vary ?? []) {
    const value = request.headers[name.toLowerCase()];
    key += `\n${name.toLowerCase()}: ${Array.isArray(value) ? value.join(', ') : (value ?? '')}`;
  }
  return key;
}

export function headers(
  reply: { header(name: string, value: string): unknown },
  cached: CachedResponse,
  caching: RouteCaching,
): void {
  const maxAge = Math.max(0, Math.floor((cached.expiresAt - Date.now()) / 1000));
  reply.header('etag', cached.etag);
  reply.header('cache-control', `public, max-age=${maxAge}`);
  if (caching.vary !== undefined && caching.vary.length > 0) reply.header('vary', caching.vary.join(', '));
}

/** Whether an `If-None-Match` header names the ETag (or is `*`). Weak comparison, as RFC 9110 asks for GET. */
export function matches(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const tags = (Array.isArray(header) ? header.join(',') : header).split(',').map((t) => t.trim().replace(/^W\//, ''));
  return tags.includes('*') || tags.includes(etag);
}
