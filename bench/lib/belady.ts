/**
 * Belady's optimum (MIN, 1966): with the whole future known, on a miss evict the key whose next use
 * is farthest away — or skip caching the newcomer if it is that key. No online policy can beat it, so
 * it is the ceiling a hit ratio is judged against. O(n log n): a max-heap of (next use, key) with lazy
 * deletion of outdated pairs.
 */

/** Hit ratio of the optimal policy on a trace of dense ids, for a cache of `capacity` entries. */
export function beladyHitRatio(requests: Int32Array, distinct: number, capacity: number): number {
  const n = requests.length;
  const NEVER = n; // beyond the end of the trace
  // nextUse[i]: index of the next request for the same key as request i.
  const nextUse = new Int32Array(n);
  const lastSeen = new Int32Array(distinct).fill(NEVER);
  for (let i = n - 1; i >= 0; i--) {
    const key = requests[i] as number;
    nextUse[i] = lastSeen[key] as number;
    lastSeen[key] = i;
  }
  const cachedNext = new Int32Array(distinct).fill(-1); // -1: not cached; else the key's next use
  const heapUse = new Int32Array(n + 1);
  const heapKey = new Int32Array(n + 1);
  let heapSize = 0;
  let size = 0;
  let hits = 0;

  const push = (use: number, key: number) => {
    let i = heapSize++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((heapUse[parent] as number) >= use) break;
      heapUse[i] = heapUse[parent] as number;
      heapKey[i] = heapKey[parent] as number;
      i = parent;
    }
    heapUse[i] = use;
    heapKey[i] = key;
  };
  const pop = () => {
    const lastUse = heapUse[--heapSize] as number;
    const lastKey = heapKey[heapSize] as number;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= heapSize) break;
      if (child + 1 < heapSize && (heapUse[child + 1] as number) > (heapUse[child] as number)) child++;
      if ((heapUse[child] as number) <= lastUse) break;
      heapUse[i] = heapUse[child] as number;
      heapKey[i] = heapKey[child] as number;
      i = child;
    }
    heapUse[i] = lastUse;
    heapKey[i] = lastKey;
  };

  for (let i = 0; i < n; i++) {
    const key = requests[i] as number;
    const next = nextUse[i] as number;
    if ((cachedNext[key] as number) >= 0) {
      hits++;
      cachedNext[key] = next;
      push(next, key);
      continue;
    }
    if (next === NEVER) continue; // never used again: caching it cannot help
    if (size < capacity) {
      size++;
    } else {
      // Find the cached key used farthest in the future (skipping outdated heap pairs).
      while (heapSize > 0 && heapUse[0] !== cachedNext[heapKey[0] as number]) pop();
      const farthestUse = heapUse[0] as number;
      if (farthestUse <= next) continue; // the newcomer is the one to drop
      cachedNext[heapKey[0] as number] = -1;
      pop();
    }
    cachedNext[key] = next;
    push(next, key);
  }
  return hits / n;
}
