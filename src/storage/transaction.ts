/**
 * storage.transaction(): reads see the room plus the transaction's own writes; the writes reach
 * the room only when the closure returns without rollback(), all in one step (so in one commit).
 * Throwing or rollback() discards them. The room runs one transaction at a time.
 */
import type { ListQuery } from "./engine.js";
import type {
  StorageGetOptions,
  StorageListOptions,
  StoragePutOptions,
  StorageTransaction,
} from "../types/party.js";
import { compareKeys } from "./keys.js";
import { toKeyRange } from "./key-range.js";
import { checkBatchSize, checkListLimit } from "./limits.js";
import { listQueryFromOptions, toAlarmTime, validKey } from "./validate.js";
import { mergeSorted, writesInRange } from "./sorted-merge.js";
import { encodeValue, type StoredValue } from "./values.js";

/** What a transaction reads through and commits into: the room. */
export interface TransactionHost {
  readValues(keys: readonly string[]): Map<string, StoredValue | null> | Promise<Map<string, StoredValue | null>>;
  listValues(query: ListQuery): Array<[string, StoredValue]> | Promise<Array<[string, StoredValue]>>;
  readAlarm(): Promise<number | null>;
  commitTransaction(entries: ReadonlyMap<string, StoredValue | null>, alarm: number | null | undefined): Promise<void>;
}

export class RoomTransaction implements StorageTransaction {
  readonly writes = new Map<string, StoredValue | null>();
  alarm: number | null | undefined = undefined;
  rolledBack = false;

  constructor(private readonly host: TransactionHost) {}

  get<T = unknown>(key: string, options?: StorageGetOptions): Promise<T | undefined>;
  get<T = unknown>(keys: string[], options?: StorageGetOptions): Promise<Map<string, T>>;
  async get(keyOrKeys: string | string[], _options?: StorageGetOptions): Promise<unknown> {
    if (!Array.isArray(keyOrKeys)) {
      const key = validKey(keyOrKeys);
      return (await this.readValues([key])).get(key)?.read();
    }
    checkBatchSize(keyOrKeys.length);
    const values = await this.readValues(keyOrKeys.map(validKey));
    const result = new Map<string, unknown>();
    for (const key of [...values.keys()].sort(compareKeys)) {
      const value = values.get(key);
      if (value) result.set(key, value.read());
    }
    return result;
  }

  async list<T = unknown>(options: StorageListOptions = {}): Promise<Map<string, T>> {
    checkListLimit(options.limit);
    const query = listQueryFromOptions(options);
    const range = toKeyRange(query);
    const result = new Map<string, T>();
    if (range === null) return result;
    const reverse = query.reverse === true;
    const limit = query.limit ?? Infinity;
    const above = writesInRange(this.writes, range, reverse);
    const below = await this.host.listValues({
      ...query,
      limit: query.limit === undefined ? undefined : limit + above.length,
    });
    for (const [key, value] of mergeSorted(below, above, reverse, limit)) result.set(key, value.read() as T);
    return result;
  }

  put<T>(key: string, value: T, options?: StoragePutOptions): Promise<void>;
  put<T>(entries: Record<string, T>, options?: StoragePutOptions): Promise<void>;
  async put(keyOrEntries: string | Record<string, unknown>, value?: unknown): Promise<void> {
    if (typeof keyOrEntries === "object" && keyOrEntries !== null) {
      const keys = Object.keys(keyOrEntries);
      checkBatchSize(keys.length);
      // Validate everything before writing anything.
      const encoded = keys.map((key) => [validKey(key), encodeValue(keyOrEntries[key])] as const);
      for (const [key, stored] of encoded) this.writes.set(key, stored);
      return;
    }
    if (value === undefined) throw new TypeError("put() called with undefined value.");
    const key = validKey(keyOrEntries);
    this.writes.set(key, encodeValue(value));
  }

  delete(key: string, options?: StoragePutOptions): Promise<boolean>;
  delete(keys: string[], options?: StoragePutOptions): Promise<number>;
  async delete(keyOrKeys: string | string[]): Promise<boolean | number> {
    const many = Array.isArray(keyOrKeys);
    if (many) checkBatchSize(keyOrKeys.length);
    const keys = [...new Set((many ? keyOrKeys : [keyOrKeys]).map(validKey))];
    const before = await this.readValues(keys);
    let existing = 0;
    for (const key of keys) {
      if (before.get(key)) existing++;
      this.writes.set(key, null);
    }
    return many ? existing : existing > 0;
  }

  rollback(): void {
    this.rolledBack = true;
  }

  async getAlarm(): Promise<number | null> {
    return this.alarm !== undefined ? this.alarm : this.host.readAlarm();
  }

  async setAlarm(scheduledTime: number | Date): Promise<void> {
    this.alarm = toAlarmTime(scheduledTime);
  }

  async deleteAlarm(): Promise<void> {
    this.alarm = null;
  }

  private async readValues(keys: readonly string[]): Promise<Map<string, StoredValue | null>> {
    const values = new Map<string, StoredValue | null>();
    const fromRoom: string[] = [];
    for (const key of keys) {
      const own = this.writes.get(key);
      if (own !== undefined) values.set(key, own);
      else fromRoom.push(key);
    }
    if (fromRoom.length > 0) {
      for (const [key, value] of await this.host.readValues(fromRoom)) values.set(key, value);
    }
    return values;
  }
}
