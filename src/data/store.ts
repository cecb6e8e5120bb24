/**
 * A whole store as the data tools see it (SQLite data folder: sqlite-store.ts; cluster
 * database: pg-store.ts): read in order from one point in time, written in large durable batches
 * under an "incomplete" mark that stops partyhouse from serving the store until the operation
 * that set it finishes. The engines (src/storage, src/cluster) serve rooms one at a time with
 * fenced group commits; this is the other access pattern, a full ordered scan and bulk writes.
 */
import type { RoomRef } from "../storage/engine.js";
import type { AlarmRecord, EntryRecord, Position, RoomFilter, StoreRecord } from "./records.js";

export interface StoreReader {
  readonly kind: "sqlite" | "postgres";
  /** Engine and place, without credentials: shown to people and kept in marks. */
  readonly description: string;
  /**
   * The records of the rooms that match, grouped by room in (party, room) UTF-8 order, each
   * room's entries in key order, then its alarm, then an `end` record; rooms strictly after
   * `after` only. Every call reads one consistent point in time (the store's writes made
   * through this object before the call included).
   */
  records(filter: RoomFilter, after?: RoomRef): AsyncIterable<readonly StoreRecord[]>;
}

export type Operation = "restore" | "import" | "migrate";

/** Kept in the store while an operation writes it (sqlite meta / ph_meta, key "incomplete"). */
export interface IncompleteMark {
  readonly operation: Operation;
  /** The export's id (restore, import) or the source store's description (migrate). */
  readonly source: string;
  readonly started: string;
  /** How far it got: everything up to here is written. */
  readonly position?: Position;
}

/** One durable transaction's worth of writes. */
export interface WriteBatch {
  /** Rooms whose keys and alarm are removed before this batch's entries are written. */
  readonly wipes: RoomRef[];
  readonly entries: EntryRecord[];
  readonly alarms: AlarmRecord[];
}

export interface StoreWriter {
  readonly description: string;
  readMark(): Promise<IncompleteMark | null>;
  /** No key and no alarm in any room. */
  isEmpty(): Promise<boolean>;
  /** Sets the mark durably before anything else is written; `wipeAll` empties the store in the same transaction. */
  begin(mark: IncompleteMark, wipeAll: boolean): Promise<void>;
  /** Writes the batch and the mark's new position in one durable transaction. */
  apply(batch: WriteBatch, mark: IncompleteMark): Promise<void>;
  /** Removes the mark, durably: from now on the store may be served. */
  finish(): Promise<void>;
}

export interface Store extends StoreReader, StoreWriter {
  close(): Promise<void>;
}

/** The mark as stored (JSON text) and back. */
export function encodeMark(mark: IncompleteMark): string {
  return JSON.stringify(mark);
}

export function decodeMark(text: string): IncompleteMark {
  try {
    const mark = JSON.parse(text) as IncompleteMark;
    if (typeof mark.operation === "string" && typeof mark.source === "string") return mark;
  } catch {
    // Fall through: a mark this version cannot read still marks the store incomplete.
  }
  return { operation: "import", source: `unreadable mark ${text}`, started: "" };
}
