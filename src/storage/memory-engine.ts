/**
 * Keeps everything in process memory: for `dev` without a data folder and for tests. Commits
 * apply atomically (all rooms or none) and values are copied in and out, so it behaves like the
 * SQLite engine except that nothing survives the process.
 */
import type {
  AlarmEntry,
  CommitOutcome,
  FenceToken,
  ListQuery,
  RoomRef,
  RoomWrite,
  StorageEngine,
} from "./engine.js";
import { compareKeys } from "./keys.js";
import { isInRange, toKeyRange } from "./key-range.js";
import { roomKey } from "./room-key.js";

const FENCE: FenceToken = 1;

interface MemoryRoom {
  readonly ref: RoomRef;
  /** Keys in UTF-8 byte order, for list(). */
  readonly sortedKeys: string[];
  readonly values: Map<string, Uint8Array>;
  alarm: number | null;
}

export class MemoryEngine implements StorageEngine {
  readonly kind = "memory";
  private readonly rooms = new Map<string, MemoryRoom>();
  private closed = false;

  async claim(_room: RoomRef): Promise<FenceToken> {
    this.assertOpen();
    return FENCE;
  }

  async get(ref: RoomRef, keys: readonly string[]): Promise<Map<string, Uint8Array>> {
    this.assertOpen();
    const found = new Map<string, Uint8Array>();
    const room = this.rooms.get(roomKey(ref));
    if (room === undefined) return found;
    for (const key of keys) {
      const value = room.values.get(key);
      if (value !== undefined) found.set(key, value.slice());
    }
    return found;
  }

  async list(ref: RoomRef, query: ListQuery): Promise<Array<[string, Uint8Array]>> {
    this.assertOpen();
    const room = this.rooms.get(roomKey(ref));
    const range = toKeyRange(query);
    if (room === undefined || range === null) return [];
    const limit = query.limit ?? Infinity;
    const result: Array<[string, Uint8Array]> = [];
    const keys = room.sortedKeys;
    const step = query.reverse ? -1 : 1;
    for (let i = query.reverse ? keys.length - 1 : 0; i >= 0 && i < keys.length; i += step) {
      if (result.length >= limit) break;
      const key = keys[i]!;
      if (isInRange(range, key)) result.push([key, room.values.get(key)!.slice()]);
    }
    return result;
  }

  async getAlarm(ref: RoomRef): Promise<number | null> {
    this.assertOpen();
    return this.rooms.get(roomKey(ref))?.alarm ?? null;
  }

  async listAlarms(): Promise<AlarmEntry[]> {
    this.assertOpen();
    const alarms: AlarmEntry[] = [];
    for (const room of this.rooms.values()) {
      if (room.alarm !== null) alarms.push({ room: room.ref, time: room.alarm });
    }
    return alarms;
  }

  async listRooms(party: string, after: string | undefined, limit: number): Promise<string[]> {
    this.assertOpen();
    const ids: string[] = [];
    for (const room of this.rooms.values()) {
      if (room.ref.party !== party || (room.values.size === 0 && room.alarm === null)) continue;
      if (after === undefined || compareKeys(room.ref.room, after) > 0) ids.push(room.ref.room);
    }
    // A full scan: the memory engine serves dev and tests, where rooms number in the hundreds.
    return ids.sort(compareKeys).slice(0, limit);
  }

  async commit(writes: readonly RoomWrite[]): Promise<CommitOutcome> {
    this.assertOpen();
    const fenced = writes.filter((write) => write.fence !== FENCE).map((write) => write.room);
    for (const write of writes) {
      if (write.fence === FENCE) this.apply(write);
    }
    return { fenced };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.rooms.clear();
  }

  private apply(write: RoomWrite): void {
    const key = roomKey(write.room);
    let room = this.rooms.get(key);
    if (room === undefined) {
      room = { ref: { party: write.room.party, room: write.room.room }, sortedKeys: [], values: new Map(), alarm: null };
      this.rooms.set(key, room);
    }
    if (write.deleteAll) {
      room.sortedKeys.length = 0;
      room.values.clear();
    }
    for (const [entryKey, value] of write.entries) {
      if (value === null) deleteKey(room, entryKey);
      else putKey(room, entryKey, value.slice());
    }
    if (write.alarm !== undefined) room.alarm = write.alarm;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("storage engine is closed");
  }
}

function putKey(room: MemoryRoom, key: string, value: Uint8Array): void {
  if (!room.values.has(key)) room.sortedKeys.splice(insertionIndex(room.sortedKeys, key), 0, key);
  room.values.set(key, value);
}

function deleteKey(room: MemoryRoom, key: string): void {
  if (!room.values.delete(key)) return;
  room.sortedKeys.splice(insertionIndex(room.sortedKeys, key), 1);
}

/** First index whose key is not below `key` (binary search). */
function insertionIndex(keys: readonly string[], key: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareKeys(keys[middle]!, key) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}
