/**
 * The validators every option goes through, each failing with a {@link ConfigError} that names the
 * option and says what it expects.
 */
import { ConfigError } from '../errors.js';
import type { Duration } from '../options.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/;

/**
 * Parses a {@link Duration} into milliseconds.
 * @throws ConfigError naming `option` when the value is missing, not finite, or not above zero.
 */
export function parseDuration(value: unknown, option: string): number {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string') {
    const match = DURATION_PATTERN.exec(value);
    if (match === null) {
      throw new ConfigError(
        option,
        `${JSON.stringify(value)} is not a duration; use milliseconds or a string such as '300s', '5m' or '24h'.`,
      );
    }
    ms = Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  } else {
    throw new ConfigError(
      option,
      value === undefined
        ? 'it is required; every entry needs a TTL (e.g. 300_000 or "5m").'
        : `expected milliseconds or a string such as '5m', got ${typeof value}.`,
    );
  }
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new ConfigError(option, `a TTL must be finite and above zero, got ${String(value)}.`);
  }
  return ms;
}

/** A whole number above zero. @throws ConfigError naming `option`. */
export function positiveInteger(value: unknown, option: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new ConfigError(option, `expected a whole number above zero, got ${String(value)}.`);
  }
  return value;
}

/** A fraction in [0, 1). @throws ConfigError naming `option`. */
export function jitterFraction(value: unknown, option: string): number {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new ConfigError(option, `expected a fraction in [0, 1), got ${String(value)}.`);
  }
  return value;
}

/** A boolean. @throws ConfigError naming `option`. */
export function boolean(value: unknown, option: string): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(option, `expected true or false, got ${String(value)}.`);
  return value;
}

/** Rejects an option not in `known`, naming it (with `where` before it) and listing the known ones. */
export function rejectUnknown(given: object, known: Set<string>, where: string): void {
  for (const name of Object.keys(given)) {
    if (!known.has(name)) {
      throw new ConfigError(`${where}${name}`, `unknown option; the known ones are ${[...known].join(', ')}.`);
    }
  }
}

/** A {@link Duration} in ms, or `Infinity` when not given. */
export function optionalDuration(value: unknown, option: string): number {
  return value === undefined ? Number.POSITIVE_INFINITY : parseDuration(value, option);
}

/** A short rendering of a bad value for an error message. */
export function describe(value: unknown): string {
  return typeof value === 'string'
    ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
    : String(value);
}
