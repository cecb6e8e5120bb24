/**
 * Records into a store, in batches of about 8 MiB, each one durable transaction that also
 * records how far the copy got (the position after the last room it completed). The next batch
 * is read and built while the store writes the previous one (batches are still written one
 * after another, in order; on PostgreSQL this overlap saves about a quarter). A room may span
 * batches; a rerun resumes at a room boundary, and with `wipeRooms` every room is emptied in the
 * batch that writes its first record, so a half-written room from an interrupted run is
 * replaced, never merged with.
 */
import type { RoomRef } from "../storage/engine.js";
import type { AlarmRecord, EntryRecord, Position, StoreRecord } from "./records.js";
import type { IncompleteMark, StoreWriter, WriteBatch } from "./store.js";

const BATCH_BYTES = 8 * 1024 * 1024;
const BATCH_RECORDS = 20_000;

export interface CopyOptions {
  /** Empty each room before its first record (restore, migrate, import --replace). */
  readonly wipeRooms: boolean;
  /** After each durable batch: what is written so far. */
  readonly onProgress?: (progress: CopyProgress) => void;
}

export interface CopyProgress {
  readonly rooms: number;
  readonly keys: number;
  readonly alarms: number;
  /** Bytes of keys and values. */
  readonly bytes: number;
}

export async function copyInto(
  target: StoreWriter,
  mark: IncompleteMark,
  records: AsyncIterable<readonly StoreRecord[]>,
  options: CopyOptions,
): Promise<CopyProgress> {
  const progress = { rooms: 0, keys: 0, alarms: 0, bytes: 0 };
  let position: Position | undefined = mark.position;
  let wipes: RoomRef[] = [];
  let entries: EntryRecord[] = [];
  let alarms: AlarmRecord[] = [];
  let bytes = 0;
  let current: RoomRef | undefined;
  const counted = { ...progress };
  let writing: Promise<void> = Promise.resolve();
  const flush = async () => {
    const batch: WriteBatch = { wipes, entries, alarms };
    const batchMark = position === undefined ? mark : { ...mark, position };
    const reached = { ...counted };
    wipes = [];
    entries = [];
    alarms = [];
    bytes = 0;
    // One batch in the store's hands at a time: wait for the previous one, then start this one.
    await writing;
    writing = target.apply(batch, batchMark).then(() => {
      Object.assign(progress, reached);
      options.onProgress?.({ ...progress });
    });
    // A failure must surface even if no later batch awaits it.
    writing.catch(() => {});
  };
  for await (const batch of records) {
    for (const record of batch) {
      if (current === undefined || current.party !== record.party || current.room !== record.room) {
        current = { party: record.party, room: record.room };
        if (options.wipeRooms) wipes.push(current);
      }
      if (record.kind === "entry") {
        entries.push(record);
        const size = record.key.byteLength + record.value.byteLength;
        bytes += size;
        counted.keys++;
        counted.bytes += size;
      } else if (record.kind === "alarm") {
        alarms.push(record);
        counted.alarms++;
      } else {
        position = record.position;
        current = undefined;
        counted.rooms++;
      }
      if (bytes >= BATCH_BYTES || entries.length + alarms.length >= BATCH_RECORDS) await flush();
    }
  }
  if (wipes.length > 0 || entries.length > 0 || alarms.length > 0 || position !== mark.position) await flush();
  await writing;
  return { ...progress };
}
