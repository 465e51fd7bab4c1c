/**
 * Doubly linked lists over slot numbers, in access order: a list's head is its least recently used
 * slot, its tail the most recent. Links live in two `Int32Array`s shared by all the lists, so a move
 * touches a few adjacent words instead of chasing pointers across the heap — the layout lru-cache
 * uses, and the reason an L1 hit stays in the CPU cache.
 */

/** "No slot": the end of a list. */
export const NIL = -1;

/** Several access-ordered lists over one slot space. O(1) per operation, allocation-free. */
export class LinkedSlots {
  prev: Int32Array;
  next: Int32Array;
  /** Least recently used slot of each list, or NIL. */
  readonly head: Int32Array;
  /** Most recently used slot of each list, or NIL. */
  readonly tail: Int32Array;
  /** Slots in each list. */
  readonly count: Float64Array;
  /** Sum of the weights of each list's slots. */
  readonly weight: Float64Array;

  constructor(lists: number, capacity: number) {
    this.prev = new Int32Array(capacity);
    this.next = new Int32Array(capacity);
    this.head = new Int32Array(lists).fill(NIL);
    this.tail = new Int32Array(lists).fill(NIL);
    this.count = new Float64Array(lists);
    this.weight = new Float64Array(lists);
  }

  /** Makes room for slots up to `capacity - 1`, keeping every link. */
  grow(capacity: number): void {
    const prev = new Int32Array(capacity);
    prev.set(this.prev);
    this.prev = prev;
    const next = new Int32Array(capacity);
    next.set(this.next);
    this.next = next;
  }

  /** Appends a slot (in no list) to a list's most recently used end. */
  push(list: number, slot: number, weight: number): void {
    const tail = this.tail[list] as number;
    this.prev[slot] = tail;
    this.next[slot] = NIL;
    if (tail === NIL) this.head[list] = slot;
    else this.next[tail] = slot;
    this.tail[list] = slot;
    (this.count[list] as number)++;
    this.weight[list] = (this.weight[list] as number) + weight;
  }

  /** Unlinks a slot from the list it is in. */
  remove(list: number, slot: number, weight: number): void {
    const prev = this.prev[slot] as number;
    const next = this.next[slot] as number;
    if (prev === NIL) this.head[list] = next;
    else this.next[prev] = next;
    if (next === NIL) this.tail[list] = prev;
    else this.prev[next] = prev;
    (this.count[list] as number)--;
    this.weight[list] = (this.weight[list] as number) - weight;
  }

  /** Moves a slot of a list to that list's most recently used end. */
  moveToTail(list: number, slot: number): void {
    const tail = this.tail[list] as number;
    if (slot === tail) return;
    const prev = this.prev[slot] as number;
    const next = this.next[slot] as number; // not NIL: the slot is not the tail
    if (prev === NIL) this.head[list] = next;
    else this.next[prev] = next;
    this.prev[next] = prev;
    this.prev[slot] = tail;
    this.next[slot] = NIL;
    this.next[tail] = slot;
    this.tail[list] = slot;
  }

  /** Empties every list (slots become free for reuse by the caller). */
  clear(): void {
    this.head.fill(NIL);
    this.tail.fill(NIL);
    this.count.fill(0);
    this.weight.fill(0);
  }
}
