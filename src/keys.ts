/**
 * Key rules and the physical key scheme. A caller's key lives in a namespace; the tiers see one string
 * per (namespace path, key) pair, and no two pairs may map to the same string.
 *
 * Scheme: a key of the root namespace is used as is, unless it starts with `\u0001`, which is then
 * doubled. A namespaced key is `\u0001` + each segment as `<length>:<name>` + `|` + key. The length
 * prefix makes every segment self-delimiting, so names and keys may contain any character, and the
 * root's keys (raw, or starting `\u0001\u0001`) never start like a namespace's (`\u0001` + a digit).
 * Root keys, the common case, cost nothing to encode.
 */
import { ConfigError, InvalidKeyError } from './errors.js';

const ESCAPE = '\u0001';
const ESCAPE_CODE = 1;
/** A UTF-16 unit is at most 3 UTF-8 bytes, so `length * 3 <= limit` proves a key short enough. */
const MAX_UTF8_BYTES_PER_UNIT = 3;

/** The prefix shared by every physical key of a namespace path (`''` for the root). */
export function namespacePrefix(segments: readonly string[]): string {
  if (segments.length === 0) return '';
  let prefix = ESCAPE;
  for (const segment of segments) prefix += `${segment.length}:${segment}`;
  return `${prefix}|`;
}

/**
 * The length of a physical key's namespace prefix, `|` included: 0 for a root key, or for a string this
 * module did not make (a tier called directly), which reads as a root key. Allocates nothing for root keys.
 */
export function prefixLength(physical: string): number {
  return readPrefix(physical, undefined);
}

/** The namespace path and caller's key a physical key stands for (the inverse of {@link physicalKey}). */
export function splitPhysicalKey(physical: string): { readonly namespace: string[]; readonly key: string } {
  const namespace: string[] = [];
  const end = readPrefix(physical, namespace);
  if (end !== 0) return { namespace, key: physical.slice(end) };
  const escaped = physical.charCodeAt(0) === ESCAPE_CODE && physical.charCodeAt(1) === ESCAPE_CODE;
  return { namespace: [], key: escaped ? physical.slice(1) : physical };
}

/** Walks a physical key's prefix, collecting its segments into `segments` if given. @returns {@link prefixLength}. */
function readPrefix(physical: string, segments: string[] | undefined): number {
  if (physical.charCodeAt(0) !== ESCAPE_CODE || physical.charCodeAt(1) === ESCAPE_CODE) return 0;
  let at = 1;
  while (physical[at] !== '|') {
    const colon = physical.indexOf(':', at);
    const length = colon < 0 ? Number.NaN : Number(physical.slice(at, colon));
    // Never loop on a string that only looks like a namespaced key.
    if (!Number.isSafeInteger(length) || length < 0 || colon + 1 + length > physical.length) return 0;
    segments?.push(physical.slice(colon + 1, colon + 1 + length));
    at = colon + 1 + length;
  }
  return at + 1;
}

/**
 * The path segments a namespace name stands for: `'users'` → `['users']`, and `'users/v2'` →
 * `['users', 'v2']`, the same namespace as `namespace('users').namespace('v2')` (same keys, same
 * counters, same `/users/v2` label in stats).
 * @throws ConfigError for anything but a non-empty string, or an empty segment (`'a//b'`, `'/a'`).
 */
export function namespaceSegments(name: unknown): string[] {
  if (typeof name !== 'string' || name.length === 0) {
    throw new ConfigError('namespace', `a namespace name must be a non-empty string, got ${JSON.stringify(name)}.`);
  }
  const segments = name.split('/');
  if (segments.includes('')) {
    throw new ConfigError(
      'namespace',
      `${JSON.stringify(name)} has an empty segment; a '/' separates nested namespaces, as in 'users/v2'.`,
    );
  }
  return segments;
}

/** The physical key of a caller's key under a namespace prefix. */
export function physicalKey(prefix: string, key: string): string {
  if (prefix !== '') return prefix + key;
  return key.charCodeAt(0) === ESCAPE_CODE ? ESCAPE + key : key;
}

/**
 * Cheap check for the hot path: true when the key is certainly valid in length. A false answer is not a
 * verdict; ask {@link keyError}.
 */
export function isShortKey(key: unknown, maxKeyLength: number): key is string {
  return typeof key === 'string' && key.length !== 0 && key.length * MAX_UTF8_BYTES_PER_UNIT <= maxKeyLength;
}

/** The full length check. @returns the error to report, or undefined when the key is valid in length. */
export function keyError(key: unknown, maxKeyLength: number): InvalidKeyError | undefined {
  if (typeof key !== 'string') return new InvalidKeyError(key, 'keys must be strings.');
  if (key.length === 0) return new InvalidKeyError(key, 'keys must not be empty.');
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > maxKeyLength) {
    return new InvalidKeyError(
      key,
      `the key is ${bytes} UTF-8 bytes, over maxKeyLength (${maxKeyLength}); hash long keys, or raise maxKeyLength.`,
    );
  }
  return undefined;
}

/**
 * Checked before a key is stored: a key with a lone surrogate has no faithful UTF-8 form, so two such
 * keys could share one byte string in a remote tier.
 */
export function malformedKeyError(key: string): InvalidKeyError | undefined {
  return key.isWellFormed()
    ? undefined
    : new InvalidKeyError(key, 'the key contains a lone UTF-16 surrogate; keys must be well-formed Unicode.');
}
