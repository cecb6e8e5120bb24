/**
 * A SQLite data folder (or a snapshot file of one) as a whole store, on its own connection.
 *
 * A folder is opened the way the engine opens it, `locking_mode=EXCLUSIVE` with the write lock
 * taken at once, so while a tool reads or writes it no `partyhouse start` can open it (and a
 * folder a server holds is refused with DataFolderInUseError: back it up through the admin
 * listener instead, online-snapshot.ts). Writes run with `synchronous=FULL`: each batch is on
 * disk when apply() returns, and the mark is removed only after every batch before it.
 * A read-only source folder is opened in WAL mode, as the engine left it.
 * The schema and the mark's place are the engine's (sqlite-schema.ts).
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { RoomRef } from "../storage/engine.js";
import { DataFolderInUseError } from "../storage/folder-lock-error.js";
import { IncompleteStoreError } from "../storage/incomplete-store-error.js";
import { roomKey, type RoomKey } from "../storage/room-key.js";
import { DATABASE_FILE_NAME, INCOMPLETE_MARK, SCHEMA_SQL } from "../storage/sqlite-schema.js";
import { roomMatches, type RoomFilter, type StoreRecord } from "./records.js";
import { decodeMark, encodeMark, type IncompleteMark, type Store, type WriteBatch } from "./store.js";

/** Records per yielded batch, and the bytes after which a batch is yielded early. */
const BATCH_RECORDS = 2048;
const BATCH_BYTES = 1024 * 1024;
const ROOMS_PER_QUERY = 256;
const MAX_REMEMBERED_ROOM_IDS = 100_000;

type Statement = Database.Statement<unknown[], unknown>;

export class SqliteStore implements Store {
  readonly kind = "sqlite" as const;
  private readonly roomIds = new Map<RoomKey, number>();
  private readonly s: ReturnType<typeof prepareReads>;
  private writes: ReturnType<typeof prepareWrites> | undefined;
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    readonly description: string,
    private readonly writable: boolean,
  ) {
    this.s = prepareReads(db);
  }

  /**
   * The store in a data folder (the folder that holds storage.sqlite3). `create`: make the
   * folder and schema when missing (a target); otherwise the database must exist (a source),
   * and one marked incomplete is refused, as the engine refuses it.
   */
  static openFolder(dir: string, options: { create: boolean }): SqliteStore {
    const file = path.join(dir, DATABASE_FILE_NAME);
    if (!options.create && !fs.existsSync(file)) throw new Error(`no partyhouse data in ${dir} (no ${DATABASE_FILE_NAME} there)`);
    if (options.create) fs.mkdirSync(dir, { recursive: true });
    // timeout 0: a folder in use must fail at once, as in the engine.
    const db = new Database(file, { timeout: 0 });
    try {
      db.pragma("locking_mode = EXCLUSIVE");
      // Bulk writes go through a rollback journal: each page is written once (WAL writes it
      // twice, to the log and then to the database; 20-35% slower here). close() and the
      // engine's open put the file back into WAL mode.
      db.pragma(options.create ? "journal_mode = DELETE" : "journal_mode = WAL");
      db.pragma("synchronous = FULL");
      db.exec("BEGIN EXCLUSIVE");
      if (options.create) db.exec(SCHEMA_SQL);
      db.exec("COMMIT");
    } catch (error) {
      db.close();
      const code = (error as { code?: unknown }).code;
      if (code === "SQLITE_BUSY" || code === "SQLITE_LOCKED") throw new DataFolderInUseError(dir, file);
      throw error;
    }
    const store = new SqliteStore(db, `sqlite:${path.resolve(file)}`, true);
    if (!options.create) {
      const mark = store.markText();
      if (mark !== undefined) {
        store.closeNow();
        throw new IncompleteStoreError(`The data folder ${dir}`, mark);
      }
    }
    return store;
  }

  /** A consistent snapshot file (online-snapshot.ts, or one downloaded from an admin listener). */
  static openSnapshot(file: string, description: string): SqliteStore {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    return new SqliteStore(db, description, false);
  }

  // ---- reading -------------------------------------------------------------------------------

  async *records(filter: RoomFilter, after?: RoomRef): AsyncGenerator<StoreRecord[]> {
    let batch: StoreRecord[] = [];
    let bytes = 0;
    const room0 = filter.room ?? filter.prefix ?? "";
    let cursor: readonly [string, string] = after !== undefined ? [after.party, after.room] : [filter.party ?? "", room0];
    let inclusive = after === undefined;
    for (;;) {
      const rooms = (inclusive ? this.s.roomsFrom : this.s.roomsAfter).all(cursor[0], cursor[1], ROOMS_PER_QUERY) as Array<[number, string, string]>;
      inclusive = false;
      if (rooms.length === 0) break;
      for (const [id, party, room] of rooms) {
        cursor = [party, room];
        if (!roomMatches(filter, party, room)) {
          // The scan starts at the party's first candidate; one party's rooms sort together,
          // and within it those sharing a prefix: past the first miss, nothing matches.
          if (filter.party !== undefined) return yield* flush();
          continue;
        }
        let found = false;
        for (const [key, value] of this.entriesOf(id)) {
          found = true;
          batch.push({ kind: "entry", party, room, key, value });
          bytes += key.byteLength + value.byteLength;
          if (batch.length >= BATCH_RECORDS || bytes >= BATCH_BYTES) {
            yield batch;
            batch = [];
            bytes = 0;
          }
        }
        const time = this.s.alarm.get(id) as number | undefined;
        if (time !== undefined) batch.push({ kind: "alarm", party, room, time });
        if (found || time !== undefined) batch.push({ kind: "end", party, room, position: { after: [party, room] } });
      }
    }
    yield* flush();

    function* flush(): Generator<StoreRecord[]> {
      if (batch.length > 0) yield batch;
      batch = [];
    }
  }

  /** A room's entries in key order, a page per query (no statement stays open across yields). */
  private *entriesOf(id: number): Generator<[Buffer, Buffer]> {
    let rows = this.s.entriesFirst.all(id, BATCH_RECORDS) as Array<[Buffer, Buffer]>;
    while (rows.length > 0) {
      yield* rows;
      if (rows.length < BATCH_RECORDS) return;
      rows = this.s.entriesAfter.all(id, rows[rows.length - 1]![0], BATCH_RECORDS) as Array<[Buffer, Buffer]>;
    }
  }

  // ---- writing -------------------------------------------------------------------------------

  async readMark(): Promise<IncompleteMark | null> {
    const text = this.markText();
    return text === undefined ? null : decodeMark(text);
  }

  async isEmpty(): Promise<boolean> {
    return this.s.isEmpty.get() === 1;
  }

  async begin(mark: IncompleteMark, wipeAll: boolean): Promise<void> {
    const w = this.writeStatements();
    this.db.transaction(() => {
      if (wipeAll) {
        this.db.exec("DELETE FROM kv; DELETE FROM alarms; DELETE FROM rooms;");
        this.roomIds.clear();
      }
      w.setMark.run(INCOMPLETE_MARK, encodeMark(mark));
    })();
  }

  async apply(batch: WriteBatch, mark: IncompleteMark): Promise<void> {
    const w = this.writeStatements();
    const created: RoomKey[] = [];
    try {
      this.db.transaction(() => {
        for (const room of batch.wipes) {
          const id = this.roomId(room.party, room.room);
          if (id === undefined) continue;
          w.wipeKeys.run(id);
          w.wipeAlarm.run(id);
        }
        for (const entry of batch.entries) w.put.run(this.roomIdForWrite(entry.party, entry.room, created), entry.key, entry.value);
        for (const alarm of batch.alarms) w.putAlarm.run(this.roomIdForWrite(alarm.party, alarm.room, created), alarm.time);
        w.setMark.run(INCOMPLETE_MARK, encodeMark(mark));
      })();
    } catch (error) {
      // Rolled back: the rooms it created do not exist.
      for (const key of created) this.roomIds.delete(key);
      throw error;
    }
  }

  async finish(): Promise<void> {
    this.writeStatements().clearMark.run(INCOMPLETE_MARK);
  }

  async close(): Promise<void> {
    this.closeNow();
  }

  private closeNow(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.writable) this.db.pragma("journal_mode = WAL");
    this.db.close();
  }

  private markText(): string | undefined {
    if (this.s.hasMeta.get() !== 1) return undefined;
    return this.db.prepare("SELECT value FROM meta WHERE key = ?").pluck().get(INCOMPLETE_MARK) as string | undefined;
  }

  private writeStatements(): ReturnType<typeof prepareWrites> {
    if (!this.writable) throw new Error(`${this.description} is a read-only snapshot`);
    return (this.writes ??= prepareWrites(this.db));
  }

  private roomId(party: string, room: string): number | undefined {
    const key = roomKey({ party, room });
    let id = this.roomIds.get(key);
    if (id === undefined) {
      id = this.s.findRoom.get(party, room) as number | undefined;
      if (id !== undefined) this.remember(key, id);
    }
    return id;
  }

  private roomIdForWrite(party: string, room: string, created: RoomKey[]): number {
    const existing = this.roomId(party, room);
    if (existing !== undefined) return existing;
    const id = Number(this.writeStatements().insertRoom.run(party, room).lastInsertRowid);
    const key = roomKey({ party, room });
    this.remember(key, id);
    created.push(key);
    return id;
  }

  private remember(key: RoomKey, id: number): void {
    if (this.roomIds.size >= MAX_REMEMBERED_ROOM_IDS) this.roomIds.clear();
    this.roomIds.set(key, id);
  }
}

function prepareReads(db: Database.Database) {
  const raw = (sql: string): Statement => db.prepare(sql).raw(true);
  return {
    // TEXT compares with memcmp (BINARY): UTF-8 byte order, as every store lists rooms.
    roomsFrom: raw("SELECT id, party, room FROM rooms WHERE (party, room) >= (?, ?) ORDER BY party, room LIMIT ?"),
    roomsAfter: raw("SELECT id, party, room FROM rooms WHERE (party, room) > (?, ?) ORDER BY party, room LIMIT ?"),
    entriesFirst: raw("SELECT key, value FROM kv WHERE room_id = ? ORDER BY key LIMIT ?"),
    entriesAfter: raw("SELECT key, value FROM kv WHERE room_id = ? AND key > ? ORDER BY key LIMIT ?"),
    alarm: db.prepare("SELECT time FROM alarms WHERE room_id = ?").pluck(),
    findRoom: db.prepare("SELECT id FROM rooms WHERE party = ? AND room = ?").pluck(),
    isEmpty: db.prepare("SELECT NOT (EXISTS (SELECT 1 FROM kv) OR EXISTS (SELECT 1 FROM alarms))").pluck(),
    hasMeta: db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'").pluck(),
  };
}

function prepareWrites(db: Database.Database) {
  return {
    insertRoom: db.prepare("INSERT INTO rooms (party, room) VALUES (?, ?)"),
    put: db.prepare("INSERT OR REPLACE INTO kv (room_id, key, value) VALUES (?, ?, ?)"),
    putAlarm: db.prepare("INSERT OR REPLACE INTO alarms (room_id, time) VALUES (?, ?)"),
    wipeKeys: db.prepare("DELETE FROM kv WHERE room_id = ?"),
    wipeAlarm: db.prepare("DELETE FROM alarms WHERE room_id = ?"),
    setMark: db.prepare("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)"),
    clearMark: db.prepare("DELETE FROM meta WHERE key = ?"),
  };
}
