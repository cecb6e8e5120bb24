/** Argument checks shared by the room API and transactions; each throws what Durable Objects throw. */
import type { ListQuery } from "./engine.js";
import type { StorageListOptions } from "../types/party.js";
import { normalizeKey } from "./keys.js";
import { checkBatchSize, checkKeySize } from "./limits.js";

export function validKey(key: unknown): string {
  const normalized = normalizeKey(key);
  checkKeySize(normalized);
  return normalized;
}

export function validKeys(keys: readonly unknown[]): string[] {
  checkBatchSize(keys.length);
  return keys.map(validKey);
}

/** The engine-level query of list() options (gate and cache options stripped). */
export function listQueryFromOptions(options: StorageListOptions): ListQuery {
  const query: ListQuery = {};
  if (options.start !== undefined) query.start = validKey(options.start);
  if (options.startAfter !== undefined) query.startAfter = validKey(options.startAfter);
  if (options.end !== undefined) query.end = validKey(options.end);
  if (options.prefix !== undefined) query.prefix = validKey(options.prefix);
  if (options.reverse !== undefined) query.reverse = options.reverse;
  if (options.limit !== undefined) query.limit = options.limit;
  return query;
}

export function toAlarmTime(scheduledTime: number | Date): number {
  const time = scheduledTime instanceof Date ? scheduledTime.getTime() : scheduledTime;
  if (typeof time !== "number" || !Number.isFinite(time)) {
    throw new TypeError("setAlarm() expects a Date or a number of milliseconds since the epoch.");
  }
  return time;
}
