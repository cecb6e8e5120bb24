/**
 * list() answers come from two sorted sources: what the layer below returned (the engine, or
 * the room when inside a transaction) and the writes above it that the layer below does not
 * have yet. The upper layer wins on equal keys and its deletes hide keys.
 */
import { compareKeys } from "./keys.js";
import { isInRange, type KeyRange } from "./key-range.js";

/** Entries of `writes` inside `range`, sorted in list order. */
export function writesInRange<V>(
  writes: Iterable<[string, V]>,
  range: KeyRange,
  reverse: boolean,
): Array<[string, V]> {
  const found: Array<[string, V]> = [];
  for (const entry of writes) if (isInRange(range, entry[0])) found.push(entry);
  found.sort(reverse ? (a, b) => compareKeys(b[0], a[0]) : (a, b) => compareKeys(a[0], b[0]));
  return found;
}

/**
 * Merges `below` (sorted in list order) with `above` (same order, null = deleted), at most
 * `limit` results. Each upper entry hides at most one lower entry, so asking the lower layer
 * for limit + above.length entries is always enough.
 */
export function mergeSorted<V>(
  below: ReadonlyArray<readonly [string, V]>,
  above: ReadonlyArray<readonly [string, V | null]>,
  reverse: boolean,
  limit: number,
): Array<[string, V]> {
  const direction = reverse ? -1 : 1;
  const merged: Array<[string, V]> = [];
  let i = 0;
  let j = 0;
  while (merged.length < limit && (i < below.length || j < above.length)) {
    const order =
      i >= below.length ? 1 : j >= above.length ? -1 : direction * compareKeys(below[i]![0], above[j]![0]);
    if (order < 0) {
      merged.push([below[i]![0], below[i]![1]]);
      i++;
      continue;
    }
    if (order === 0) i++;
    const [key, value] = above[j]!;
    j++;
    if (value !== null) merged.push([key, value]);
  }
  return merged;
}
