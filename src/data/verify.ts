/**
 * Verification of a copy: both stores are read again, each room's key count and SHA-256
 * (room-digest.ts) computed on each side and compared room by room, in one merged pass over the
 * two ordered scans (memory flat, whatever the number of rooms).
 */
import { createHash } from "node:crypto";
import type { RoomRef } from "../storage/engine.js";
import { compareRooms, type RoomFilter, type StoreRecord } from "./records.js";
import { RoomDigest, type RoomSummary } from "./room-digest.js";
import type { StoreReader } from "./store.js";

/** Mismatched rooms remembered for repair; past this the copy is reported as failed. */
export const MAX_MISMATCHES = 10_000;

export interface Verification {
  /** Rooms, keys and bytes of the source. */
  readonly rooms: number;
  readonly keys: number;
  readonly bytes: number;
  /** SHA-256 over every source room's party, room and digest: one figure for the whole store. */
  readonly checksum: string;
  /** Rooms whose count or digest differ, or that only one side has (up to MAX_MISMATCHES). */
  readonly mismatched: readonly RoomRef[];
  /** More rooms differ than were remembered. */
  readonly overflow: boolean;
}

export async function* roomSummaries(records: AsyncIterable<readonly StoreRecord[]>): AsyncGenerator<RoomSummary> {
  let digest: RoomDigest | undefined;
  for await (const batch of records) {
    for (const record of batch) {
      digest ??= new RoomDigest(record.party, record.room);
      if (record.kind === "entry") digest.entry(record.key, record.value);
      else if (record.kind === "alarm") digest.setAlarm(record.time);
      else {
        yield digest.finish();
        digest = undefined;
      }
    }
  }
}

export async function compareStores(source: StoreReader, target: StoreReader, filter: RoomFilter = {}): Promise<Verification> {
  const left = roomSummaries(source.records(filter));
  const right = roomSummaries(target.records(filter));
  const checksum = createHash("sha256");
  const mismatched: RoomRef[] = [];
  let overflow = false;
  const totals = { rooms: 0, keys: 0, bytes: 0 };
  const differs = (room: RoomRef) => {
    if (mismatched.length < MAX_MISMATCHES) mismatched.push({ party: room.party, room: room.room });
    else overflow = true;
  };
  let a = await left.next();
  let b = await right.next();
  while (!a.done || !b.done) {
    const order = a.done ? 1 : b.done ? -1 : compareRooms(a.value, b.value);
    if (order <= 0) {
      const room = a.value!;
      totals.rooms++;
      totals.keys += room.keys;
      totals.bytes += room.bytes;
      checksum.update(`${room.party}\0${room.room}\0${room.sha256}\n`);
    }
    if (order === 0) {
      if (a.value!.keys !== b.value!.keys || a.value!.sha256 !== b.value!.sha256) differs(a.value!);
      a = await left.next();
      b = await right.next();
    } else if (order < 0) {
      differs(a.value!);
      a = await left.next();
    } else {
      differs(b.value!);
      b = await right.next();
    }
  }
  return { ...totals, checksum: checksum.digest("hex"), mismatched, overflow };
}
