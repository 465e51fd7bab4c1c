/** Growing the fixed-size typed arrays that slot-based structures keep their fields in. */

type TypedArray = Int32Array | Uint8Array | Float64Array;

/** A copy of `array` extended (with zeros) to `length` elements. */
export function extended<T extends TypedArray>(array: T, length: number): T {
  const copy = new (array.constructor as new (length: number) => T)(length);
  copy.set(array as never);
  return copy;
}
