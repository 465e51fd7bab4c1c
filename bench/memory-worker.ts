/**
 * Heap bytes per entry of one contender, in its own process (run with --expose-gc): heap growth after
 * inserting 1,000,001 small entries (key `k<i>`, a small-integer value) into a cache bounded at 1,000,000,
 * divided by the entry count. One insert past the bound puts a cache in its steady state: tiercache's
 * frequency sketch starts afresh at twice its size when the tier first fills (`memory-tier.ts`, `set`),
 * 6 B per entry more than before. Key strings are allocated before the first reading, so they count for
 * no contender.
 */
import { LRUCache } from 'lru-cache';
import { createCache } from '../dist/index.js';

const ENTRIES = 1_000_000;
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error('run with --expose-gc');

const [name = 'tiercache'] = process.argv.slice(2);
const keys = Array.from({ length: ENTRIES + 1 }, (_, i) => `k${i}`);
gc();
gc();
const before = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
let holder: unknown;
switch (name) {
  case 'tiercache': {
    const cache = createCache({ ttl: '1h', l1: { maxEntries: ENTRIES } });
    for (let i = 0; i <= ENTRIES; i++) await cache.set(keys[i] as string, i);
    if (cache.stats().l1?.entries !== ENTRIES) throw new Error('the tier does not hold exactly its bound');
    holder = cache;
    break;
  }
  case 'lru-cache': {
    const cache = new LRUCache<string, number>({ max: ENTRIES, ttl: 3_600_000 });
    for (let i = 0; i <= ENTRIES; i++) cache.set(keys[i] as string, i);
    holder = cache;
    break;
  }
  case 'map': {
    const map = new Map<string, number>();
    for (let i = 0; i < ENTRIES; i++) map.set(keys[i] as string, i);
    holder = map;
    break;
  }
  default:
    throw new Error(`unknown contender ${name}`);
}
gc();
gc();
const after = process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
console.log(JSON.stringify({ name, bytesPerEntry: (after - before) / ENTRIES, kept: holder !== undefined }));
