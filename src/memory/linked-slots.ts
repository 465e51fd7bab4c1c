/**
 * Doubly linked lists over slot numbers, in access order: a list's head is its least recently used
 * slot, its tail the most recent. Each slot owns a record of four 32-bit integers in one shared
 * `Int32Array` — previous, next, and two fields the owner keeps beside them (the tier stores the key
 * hash and segment there) — so a hit reads one 16-byte record instead of chasing pointers across the
 * heap or touching a separate array per field.
 */

import { extended } from '../typed-arrays.js';

/** "No slot": the end of a list. */
export const NIL = -1;
/** Integers per slot record. */
export const RECORD = 4;
const PREV = 0;
const NEXT = 1;
/** Offset of the first owner field in a slot's record. */
export const FIELD_A = 2;
/** Offset of the second owner field in a slot's record. */
export const FIELD_B = 3;

/** Several access-ordered lists over one slot space. O(1) per operation, allocation-free. */
export class LinkedSlots {
  /** `RECORD` integers per slot: prev, next, FIELD_A, FIELD_B. */
  records: Int32Array;
  /** Least recently used slot of each list, or NIL. */
  readonly head: Int32Array;
  /** Most recently used slot of each list, or NIL. */
  readonly tail: Int32Array;
  /** Slots in each list. */
  readonly count: Float64Array;
  /** Sum of the weights of each list's slots. */
  readonly weight: Float64Array;

  constructor(lists: number, capacity: number) {
    this.records = new Int32Array(capacity * RECORD);
    this.head = new Int32Array(lists).fill(NIL);
    this.tail = new Int32Array(lists).fill(NIL);
    this.count = new Float64Array(lists);
    this.weight = new Float64Array(lists);
  }

  /** Makes room for slots up to `capacity - 1`, keeping every record. */
  grow(capacity: number): void {
    this.records = extended(this.records, capacity * RECORD);
  }

  /** The slot after this one in its list (towards the most recent), or NIL. */
  next(slot: number): number {
    return this.records[slot * RECORD + NEXT] as number;
  }

  /** Appends a slot (in no list) to a list's most recently used end. */
  push(list: number, slot: number, weight: number): void {
    const records = this.records;
    const tail = this.tail[list] as number;
    records[slot * RECORD + PREV] = tail;
    records[slot * RECORD + NEXT] = NIL;
    if (tail === NIL) this.head[list] = slot;
    else records[tail * RECORD + NEXT] = slot;
    this.tail[list] = slot;
    (this.count[list] as number)++;
    this.weight[list] = (this.weight[list] as number) + weight;
  }

  /** Unlinks a slot from the list it is in. */
  remove(list: number, slot: number, weight: number): void {
    const records = this.records;
    const prev = records[slot * RECORD + PREV] as number;
    const next = records[slot * RECORD + NEXT] as number;
    if (prev === NIL) this.head[list] = next;
    else records[prev * RECORD + NEXT] = next;
    if (next === NIL) this.tail[list] = prev;
    else records[next * RECORD + PREV] = prev;
    (this.count[list] as number)--;
    this.weight[list] = (this.weight[list] as number) - weight;
  }

  /** Moves a slot of a list to that list's most recently used end. */
  moveToTail(list: number, slot: number): void {
    const tail = this.tail[list] as number;
    if (slot === tail) return;
    const records = this.records;
    const base = slot * RECORD;
    const prev = records[base + PREV] as number;
    const next = records[base + NEXT] as number; // not NIL: the slot is not the tail
    if (prev === NIL) this.head[list] = next;
    else records[prev * RECORD + NEXT] = next;
    records[next * RECORD + PREV] = prev;
    records[base + PREV] = tail;
    records[base + NEXT] = NIL;
    records[tail * RECORD + NEXT] = slot;
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
