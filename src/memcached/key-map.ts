/**
 * Memcached keys are at most 250 bytes, with no spaces or control characters; tiercache's physical keys
 * may hold anything. The mapping is injective, so no two keys ever share an item:
 *
 * - **Escaped**: `<prefix><generation>:<key>` with every byte outside `[A-Za-z0-9_.:/@-]` written `%XX`
 *   (UTF-8). Escaping is one-to-one, and an escaped key never holds `#`, `~` or `!`.
 * - **Hashed**, when the escaped form would be longer than {@link MAX_DIRECT_BYTES}: `<prefix><generation>:#`
 *   and the key's SHA-256 in base64url. `#` never occurs in an escaped key, so a hashed key never equals
 *   an escaped one; two hashed keys are equal only if SHA-256 collides.
 *
 * The generation (see `generations.ts`) is a run of digits and dots, ended by the `:`; the room left
 * below 250 bytes keeps space for a hot key's copy suffix (`~<n>`).
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '../errors.js';

/** Memcached's key limit. */
export const MAX_KEY_BYTES = 250;
/** Longest mapped key before hashing: leaves room for a copy suffix. */
const MAX_DIRECT_BYTES = 240;
/** Longest prefix accepted (the hashed form must still fit). */
const MAX_PREFIX_BYTES = 100;
const SAFE = /^[A-Za-z0-9_.:/@-]*$/;

/** Checks a tier prefix: printable ASCII without spaces, `%`, `#`, `~` or `!`, at most 100 bytes. */
export function checkMemcachedPrefix(prefix: unknown): string {
  if (typeof prefix !== 'string' || !SAFE.test(prefix) || prefix.length > MAX_PREFIX_BYTES) {
    throw new ConfigError(
      'prefix',
      `expected up to ${MAX_PREFIX_BYTES} characters from A-Z a-z 0-9 _ . : / @ -, got ${JSON.stringify(prefix)}.`,
    );
  }
  return prefix;
}

/** The escaped form of a key (see the module doc). */
export function escapeMemcachedKey(key: string): string {
  if (SAFE.test(key)) return key;
  let out = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += byte < 0x80 && SAFE.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The Memcached key of a physical key under `head` (prefix + generation + `:`). */
export function memcachedKey(head: string, key: string): string {
  const escaped = escapeMemcachedKey(key);
  // The escaped form is ASCII, so its length is its byte length.
  if (head.length + escaped.length <= MAX_DIRECT_BYTES) return head + escaped;
  return `${head}#${createHash('sha256').update(key, 'utf8').digest('base64url')}`;
}
