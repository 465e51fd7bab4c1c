/** What `copyOnRead` hands a caller: a private copy, or a typed error when the value cannot be copied. */
import { InvalidValueError } from '../errors.js';

/**
 * A caller's private copy of a cached value (`copyOnRead`). A value that cannot be copied (too deeply
 * nested for structuredClone, say) is an InvalidValueError, never a raw DataCloneError or RangeError.
 */
export function copyOut<T>(key: string, value: T): T {
  try {
    return structuredClone(value);
  } catch (cause) {
    throw new InvalidValueError(key, 'copyOnRead is on and the cached value cannot be structured-cloned.', cause);
  }
}

/** {@link copyOut} as a promise (the L1-hit path must reject, not throw). */
export function copiedOut<T>(key: string, value: T): Promise<T> {
  try {
    return Promise.resolve(copyOut(key, value));
  } catch (error) {
    return Promise.reject(error);
  }
}
