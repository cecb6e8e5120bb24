/**
 * The key range a list() covers, from its options: `start` inclusive, `startAfter` exclusive,
 * `prefix` (combined with both), `end` exclusive. Shared by the room overlay and the memory
 * engine; the SQLite engine turns the same fields into byte bounds.
 */
import type { ListQuery } from "./engine.js";
import { compareKeys } from "./keys.js";

export interface KeyRange {
  readonly lower: string | undefined;
  readonly lowerInclusive: boolean;
  readonly upper: string | undefined;
  readonly prefix: string | undefined;
}

/** The range, or null when it is empty by construction (start >= end). */
export function toKeyRange(query: ListQuery): KeyRange | null {
  let lower: string | undefined;
  let lowerInclusive = true;
  const raise = (candidate: string | undefined, inclusive: boolean) => {
    if (candidate === undefined) return;
    const order = lower === undefined ? 1 : compareKeys(candidate, lower);
    if (order > 0 || (order === 0 && !inclusive)) {
      lower = candidate;
      lowerInclusive = inclusive;
    }
  };
  raise(query.prefix, true);
  raise(query.start, true);
  raise(query.startAfter, false);
  const upper = query.end;
  if (lower !== undefined && upper !== undefined && compareKeys(lower, upper) >= 0) return null;
  return { lower, lowerInclusive, upper, prefix: query.prefix || undefined };
}

export function isInRange(range: KeyRange, key: string): boolean {
  if (range.prefix !== undefined && !key.startsWith(range.prefix)) return false;
  if (range.lower !== undefined) {
    const order = compareKeys(key, range.lower);
    if (order < 0 || (order === 0 && !range.lowerInclusive)) return false;
  }
  return range.upper === undefined || compareKeys(key, range.upper) < 0;
}

/** A range as UTF-8 byte bounds, for engines that compare keys as bytes (SQLite, PostgreSQL). */
export interface ByteRange {
  readonly lower: Buffer | undefined;
  readonly lowerInclusive: boolean;
  /** Exclusive. */
  readonly upper: Buffer | undefined;
}

/** The byte bounds of a list() query (the prefix folded into the upper bound), or null if empty. */
export function toByteRange(query: ListQuery): ByteRange | null {
  const range = toKeyRange(query);
  if (range === null) return null;
  const lower: Buffer | undefined = range.lower === undefined ? undefined : Buffer.from(range.lower, "utf8");
  let upper: Buffer | undefined = range.upper === undefined ? undefined : Buffer.from(range.upper, "utf8");
  if (range.prefix !== undefined) {
    const prefixEnd = byteSuccessor(Buffer.from(range.prefix, "utf8"));
    if (upper === undefined || Buffer.compare(prefixEnd, upper) < 0) upper = prefixEnd;
  }
  return { lower, lowerInclusive: range.lowerInclusive, upper };
}

/** The smallest byte string greater than every string that starts with `prefix`. UTF-8 never
 *  contains 0xFF, so the last byte can always be incremented. */
function byteSuccessor(prefix: Buffer): Buffer {
  const successor = Buffer.from(prefix);
  let i = successor.length - 1;
  while (i >= 0 && successor[i] === 0xff) i--;
  successor[i]! += 1;
  return successor.subarray(0, i + 1);
}
