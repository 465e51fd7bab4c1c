/**
 * An in-memory shared tier with every capability the cache's coordination uses — versions (fenced
 * stores), load locks with tokens, fill notifications — for unit tests of the miss path and the lock
 * protocol without Redis. Semantics follow the Redis tier's scripts; time is the test's fake clock.
 */
import type { Envelope, LockHandle, SharedTier } from '../../src/index.js';

export interface MemoryLockingTier extends SharedTier {
  readonly entries: Map<string, Envelope>;
  readonly versions: Map<string, number>;
  readonly locks: Map<string, string>;
}

export function memoryLockingTier(): MemoryLockingTier {
  const entries = new Map<string, Envelope>();
  const versions = new Map<string, number>();
  const locks = new Map<string, string>();
  const waiters = new Map<string, Set<() => void>>();
  let tokens = 0;
  const bump = (key: string) => versions.set(key, (versions.get(key) ?? 0) + 1);
  const version = (key: string) => String(versions.get(key) ?? 0);
  return {
    name: 'memory-locking',
    entries,
    versions,
    locks,
    get: async (key) => entries.get(key),
    set: async (key, envelope) => {
      bump(key);
      entries.set(key, envelope);
    },
    delete: async (key) => {
      bump(key);
      entries.delete(key);
    },
    clear: async () => entries.clear(),
    close: async () => {},
    getVersioned: async (key) => ({ envelope: entries.get(key), version: version(key) }),
    version: async (key) => version(key),
    setIfVersion: async (key, envelope, _ttl, seen, fence) => {
      if (version(key) !== seen) return false;
      if (fence !== undefined && locks.get(key) !== fence) return false;
      bump(key);
      entries.set(key, envelope);
      return true;
    },
    writeIfVersion: async (key, envelope, _ttl, seen) => {
      const raced = version(key) !== seen;
      bump(key);
      if (raced) entries.delete(key);
      else entries.set(key, envelope);
      return !raced;
    },
    tryLock: async (key): Promise<LockHandle | undefined> => {
      if (locks.has(key)) return undefined;
      const token = `t${++tokens}`;
      locks.set(key, token);
      return {
        token,
        release: async () => {
          if (locks.get(key) === token) locks.delete(key);
        },
        extend: async () => locks.get(key) === token,
      };
    },
    waitForFill: (key, timeoutMs) =>
      new Promise<void>((resolve) => {
        const set = waiters.get(key) ?? new Set();
        waiters.set(key, set);
        const done = () => {
          clearTimeout(timer);
          set.delete(done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        set.add(done);
      }),
    announceFill: async (key) => {
      for (const wake of [...(waiters.get(key) ?? [])]) wake();
    },
  };
}
