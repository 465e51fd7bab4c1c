/**
 * tiercache — a fast, safe cache between an application and its database.
 *
 * This is the only public entry point; everything exported here is API.
 * @packageDocumentation
 */

export type {
  BatchLoader,
  Cache,
  CacheEvents,
  HotKey,
  Loader,
  LoaderContext,
  WriteOutcome,
} from './cache/api.js';
export { createCache } from './cache.js';
export type { Envelope, ReadCounters } from './entry.js';
export {
  CacheClosedError,
  ConfigError,
  InvalidKeyError,
  InvalidValueError,
  LoaderError,
  OverloadedError,
  TierCacheError,
  type TierCacheErrorCode,
  TierUnavailableError,
  TimeoutError,
  ValueTooLargeError,
} from './errors.js';
export type { BreakerState } from './guard/circuit-breaker.js';
export {
  createMemcachedTier,
  MemcachedTier,
  type MemcachedTierCounters,
  type MemcachedTierOptions,
} from './memcached/memcached-tier.js';
export type { ServerAddress } from './memcached/pool.js';
export { estimateSize } from './memory/weigher.js';
export { CHANNELS, type LatencyMessage, type TraceContext } from './metrics/channels.js';
export type { Diagnosis, DiagnosisCause, HealthReport } from './metrics/health.js';
export type { GetOrLoadOutcome, LatencySummaries, LatencySummary } from './metrics/latency.js';
export {
  type MetricRegistry,
  type PrometheusOptions,
  type PrometheusRegistration,
  registerPrometheus,
} from './metrics/prometheus.js';
export type { CacheStats, MemoryTierStats, MissCauses } from './metrics/stats.js';
export { DEFAULTS } from './options/resolve.js';
export { parseDuration } from './options/validate.js';
export type {
  CacheLogger,
  CacheOptions,
  CallOptions,
  CallRefreshAhead,
  Clock,
  Duration,
  HealthOptions,
  HotKeyOptions,
  MemoryTierOptions,
} from './options.js';
export type { RedisClient, RedisClusterClient, RedisSentinelClient, SentinelTarget } from './redis/client.js';
export {
  createRedisTier,
  type IoredisClient,
  RedisTier,
  type RedisTierCounters,
  type RedisTierOptions,
} from './redis/redis-tier.js';
export type {
  BusEvent,
  HotKeyCopies,
  InvalidationBus,
  InvalidationMessage,
  LockHandle,
  LockingTier,
  SharedTier,
  SharedTierCore,
  TaggingTier,
  VersionedTier,
} from './tier.js';
