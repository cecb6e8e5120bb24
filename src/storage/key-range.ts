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
