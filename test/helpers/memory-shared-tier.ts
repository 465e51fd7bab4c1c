/** A plain in-memory shared tier for unit tests of the cache's logic (the Redis tier has its own tests). */
import type { Envelope, SharedTier } from '../../src/index.js';

/** A shared tier over a Map, and the Map, so a test can look at or change what it holds. */
export function memorySharedTier(): { tier: SharedTier; entries: Map<string, Envelope> } {
  const entries = new Map<string, Envelope>();
  const tier: SharedTier = {
    name: 'memory',
    get: async (key) => entries.get(key),
    set: async (key, envelope) => void entries.set(key, envelope),
    delete: async (key) => void entries.delete(key),
    clear: async () => entries.clear(),
    close: async () => {},
  };
  return { tier, entries };
}
