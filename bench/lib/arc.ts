/**
 * ARC (Megiddo & Modha, "ARC: A Self-Tuning, Low Overhead Replacement Cache", FAST 2003), as a
 * reference policy for the hit-ratio benchmark: T1 (seen once recently) and T2 (seen at least twice),
 * their ghosts B1 and B2, and a target size p for T1 that a ghost hit moves. Written from the paper's
 * pseudocode; each list is a `Map` in LRU → MRU order (a re-insert moves a key to MRU).
 */

/** The hit ratio of ARC of `capacity` entries on `requests` (dense integer keys). */
export function arcHitRatio(requests: Int32Array, capacity: number): number {
  const t1 = new Map<number, true>();
  const t2 = new Map<number, true>();
  const b1 = new Map<number, true>();
  const b2 = new Map<number, true>();
  let p = 0;
  let hits = 0;
  const lruOf = (list: Map<number, true>) => list.keys().next().value as number;
  const replace = (inB2: boolean) => {
    if (t1.size > 0 && (t1.size > p || (inB2 && t1.size === p))) {
      const key = lruOf(t1);
      t1.delete(key);
      b1.set(key, true);
    } else if (t2.size > 0) {
      const key = lruOf(t2);
      t2.delete(key);
      b2.set(key, true);
    }
  };
  for (let i = 0; i < requests.length; i++) {
    const key = requests[i] as number;
    if (t1.has(key)) {
      t1.delete(key);
      t2.set(key, true);
      hits++;
    } else if (t2.has(key)) {
      t2.delete(key);
      t2.set(key, true);
      hits++;
    } else if (b1.has(key)) {
      p = Math.min(capacity, p + Math.max(b2.size / b1.size, 1));
      replace(false);
      b1.delete(key);
      t2.set(key, true);
    } else if (b2.has(key)) {
      p = Math.max(0, p - Math.max(b1.size / b2.size, 1));
      replace(true);
      b2.delete(key);
      t2.set(key, true);
    } else {
      if (t1.size + b1.size === capacity) {
        if (t1.size < capacity) {
          b1.delete(lruOf(b1));
          replace(false);
        } else {
          t1.delete(lruOf(t1));
        }
      } else {
        const total = t1.size + t2.size + b1.size + b2.size;
        if (total >= capacity) {
          if (total === 2 * capacity) b2.delete(lruOf(b2));
          replace(false);
        }
      }
      t1.set(key, true);
    }
  }
  return hits / requests.length;
}
