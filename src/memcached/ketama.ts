/**
 * Consistent hashing as libketama does it (and libmemcached, pylibmc, spymemcached, twemproxy's
 * `ketama` distribution, mcrouter's `ch3`-compatible mode), so other clients of the same pool agree on
 * which server holds a key:
 *
 * - each server gets `floor(40 × n × weight / Σweights)` MD5 digests of `"<host>:<port>-<i>"`, each
 *   digest giving 4 points on a 2³² circle (bytes 4h…4h+3, little-endian);
 * - a key's point is the first 4 bytes of MD5(key), little-endian; its server owns the first point at or
 *   after it (wrapping round).
 *
 * Adding or removing one of n servers moves about 1/n of the keys; the rest stay put.
 */
import { createHash } from 'node:crypto';

/** A server on the continuum. */
export interface KetamaServer {
  /** `host:port`, exactly as other clients of the pool name it. */
  readonly name: string;
  /** Relative share of the keys. */
  readonly weight: number;
}

/** The continuum of a set of servers. */
export class Ketama<S extends KetamaServer> {
  readonly #points: Uint32Array;
  readonly #owners: S[];

  constructor(servers: readonly S[]) {
    const total = servers.reduce((sum, server) => sum + server.weight, 0);
    const points: { point: number; server: S }[] = [];
    for (const server of servers) {
      const digests = Math.floor(((server.weight / total) * 40 * servers.length) as number);
      for (let i = 0; i < digests; i++) {
        const digest = createHash('md5').update(`${server.name}-${i}`).digest();
        for (let h = 0; h < 4; h++) points.push({ point: digest.readUInt32LE(h * 4), server });
      }
    }
    // Ties (two servers on one point) broken by server order, as libketama's stable qsort would.
    points.sort((a, b) => a.point - b.point);
    this.#points = Uint32Array.from(points, (p) => p.point);
    this.#owners = points.map((p) => p.server);
  }

  /** The server that owns a key. */
  server(key: string): S {
    return this.#owners[this.#index(hashKey(key))] as S;
  }

  /**
   * The first `count` distinct servers walking the continuum from a key's point: the owner, then the
   * servers a replicated pool puts the key's copies on.
   */
  servers(key: string, count: number): S[] {
    const result: S[] = [];
    const start = this.#index(hashKey(key));
    for (let i = 0; i < this.#owners.length && result.length < count; i++) {
      const server = this.#owners[(start + i) % this.#owners.length] as S;
      if (!result.includes(server)) result.push(server);
    }
    return result;
  }

  #index(hash: number): number {
    const points = this.#points;
    let low = 0;
    let high = points.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((points[mid] as number) < hash) low = mid + 1;
      else high = mid;
    }
    return low === points.length ? 0 : low;
  }
}

/** A key's point on the continuum. */
export function hashKey(key: string): number {
  return createHash('md5').update(key).digest().readUInt32LE(0);
}
