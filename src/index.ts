/**
 * tiercache — a fast, safe cache between an application and its database.
 *
 * This is the only public entry point; everything exported here is API.
 * @packageDocumentation
 */
export { type Cache, createCache, type Loader, type LoaderContext } from './cache.js';
export {
  CacheClosedError,
  ConfigError,
  InvalidKeyError,
  InvalidValueError,
  LoaderError,
  TierCacheError,
  type TierCacheErrorCode,
  ValueTooLargeError,
} from './errors.js';
export { estimateSize } from './memory/weigher.js';
export type { CacheStats, MemoryTierStats } from './metrics/stats.js';
export {
  type CacheOptions,
  type CallOptions,
  type Clock,
  DEFAULTS,
  type Duration,
  type MemoryTierOptions,
  parseDuration,
} from './options.js';
