/**
 * This instance's tag index, both ways: tag → the keys cached here with it, key → its tags. A key
 * carries the tags of its last write only, so a rewrite with other tags (or none) and a removal take it
 * out of its old ones. The shared tier keeps its own index across instances; this one covers the L1 —
 * values only this instance holds included — and caches without an L2. Keys and tags are physical.
 */

/** Keys indexed before the first pruning; after that, pruning waits until the index has doubled. */
const PRUNE_FLOOR = 1024;

/** A two-way index of tags and keys, pruned of keys the L1 no longer holds. */
export class TagIndex {
  readonly #keysByTag = new Map<string, Set<string>>();
  readonly #tagsByKey = new Map<string, readonly string[]>();
  /** (key, tag) pairs held now, and at the last pruning. */
  #pairs = 0;
  #pairsAtPrune = 0;

  /**
   * Records that a key carries `tags` and no others. `isCached` tells a pruning which keys the L1 still
   * holds (an index entry outliving its value only costs memory, and a needless removal later).
   */
  set(key: string, tags: readonly string[], isCached: (key: string) => boolean): void {
    this.remove(key);
    if (tags.length === 0) return;
    this.#tagsByKey.set(key, tags);
    for (const tag of tags) {
      let keys = this.#keysByTag.get(tag);
      if (keys === undefined) {
        keys = new Set();
        this.#keysByTag.set(tag, keys);
      }
      keys.add(key);
      this.#pairs++;
    }
    if (this.#pairs > Math.max(PRUNE_FLOOR, 2 * this.#pairsAtPrune)) this.#prune(isCached);
  }

  /** Forgets a key's tags (it was removed, or is rewritten). */
  remove(key: string): void {
    const old = this.#tagsByKey.get(key);
    if (old === undefined) return;
    this.#tagsByKey.delete(key);
    for (const tag of old) {
      const keys = this.#keysByTag.get(tag);
      if (keys?.delete(key) !== true) continue;
      this.#pairs--;
      if (keys.size === 0) this.#keysByTag.delete(tag);
    }
  }

  /** Forgets a tag: removes the keys carrying it from the index and returns them. */
  take(tag: string): Set<string> {
    const keys = new Set(this.#keysByTag.get(tag));
    for (const key of keys) this.remove(key);
    return keys;
  }

  /** (key, tag) pairs held (for tests and stats). */
  get size(): number {
    return this.#pairs;
  }

  #prune(isCached: (key: string) => boolean): void {
    for (const key of [...this.#tagsByKey.keys()]) if (!isCached(key)) this.remove(key);
    this.#pairsAtPrune = this.#pairs;
  }
}
