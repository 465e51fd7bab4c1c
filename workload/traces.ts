/**
 * Readers for the real cache traces in `shared/traces/` (see its README): the LIRS paper's traces
 * (gzip text, one integer key a line, `*` lines skipped) and cache2k's web traces (xz, big-endian
 * 32-bit keys back to back). Keys are remapped to dense ids `0 … distinct − 1`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** A trace: the request stream as dense ids, and how many distinct keys it touches. */
export interface Trace {
  readonly name: string;
  readonly requests: Int32Array;
  readonly distinct: number;
}

/** Remaps arbitrary integer keys to dense ids in first-seen order. */
export function densify(name: string, keys: ArrayLike<number>): Trace {
  const ids = new Map<number, number>();
  const requests = new Int32Array(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as number;
    let id = ids.get(key);
    if (id === undefined) {
      id = ids.size;
      ids.set(key, id);
    }
    requests[i] = id;
  }
  return { name, requests, distinct: ids.size };
}

/** Reads a LIRS `.trace.gz` file. */
export function readLirsTrace(path: string, name: string): Trace {
  const text = gunzipSync(readFileSync(path)).toString('latin1');
  const keys: number[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || trimmed === '*') continue;
    keys.push(Number(trimmed));
  }
  return densify(name, keys);
}

/** Reads a cache2k `.trace.xz` file (needs the `xz` command, from Debian's xz-utils). */
export function readCache2kTrace(path: string, name: string): Trace {
  const bytes = execFileSync('xz', ['-dc', path], { maxBuffer: 1 << 30 });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const keys = new Int32Array(bytes.byteLength >>> 2);
  for (let i = 0; i < keys.length; i++) keys[i] = view.getInt32(i * 4, false);
  return densify(name, keys);
}
