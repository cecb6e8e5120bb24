/**
 * The default engine: one SQLite database (better-sqlite3, WAL) in the data folder.
 *
 * - `locking_mode=EXCLUSIVE` holds an OS lock on the file for the life of the connection. That
 *   is the one-process-per-folder guard (the OS drops the lock when the process dies, even by
 *   SIGKILL), and without shared memory point reads are about twice as fast.
 * - `synchronous=FULL` (durability "full", the default) fsyncs the WAL on every commit, so an
 *   acknowledged write survives power loss; "normal" survives a process kill only.
 * - The automatic checkpoint would stall a commit for tens of milliseconds every ~1,000 pages,
 *   so it is off, and a passive checkpoint runs on an unref'd timer after commits happened.
 * - Work is synchronous inside (better-sqlite3); the async signatures are the engine contract.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type {
  AlarmEntry,
  CommitOutcome,
  FenceToken,
  ListQuery,
  RoomRef,
  RoomWrite,
  StorageEngine,
} from "./engine.js";
import { DataFolderInUseError } from "./folder-lock-error.js";
import { toByteRange } from "./key-range.js";
import { roomKey } from "./room-key.js";
import { DATABASE_FILE_NAME, SCHEMA_SQL } from "./sqlite-schema.js";

export type Durability = "full" | "normal";

export interface SqliteEngineOptions {
  dir: string;
  durability?: Durability;
  /**
   * How often to checkpoint the WAL when commits happened. Default 250 ms: a checkpoint blocks
   * for about 20 µs per page it copies, so frequent small ones keep each pause short.
   */
  checkpointIntervalMs?: number;
}

/** The exclusive lock is the folder lock: this process holds it for as long as it runs. */
const FENCE: FenceToken = 1;
/** Room ids remembered in memory; past this the map starts over (ids are re-read on demand). */
const MAX_REMEMBERED_ROOM_IDS = 100_000;

type Statement = Database.Statement<unknown[], unknown>;

export class SqliteEngine implements StorageEngine {
  readonly kind = "sqlite";
  readonly file: string;
  /** Room id, or null for a room that has never been written (reads of it need no query). */
  private readonly roomIds = new Map<string, number | null>();
  private readonly listStatements = new Map<string, Statement>();
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly checkpointTimer: NodeJS.Timeout;
  private commitsSinceCheckpoint = 0;
  private closed = false;

  private constructor(
    private readonly db: Database.Database,
    file: string,
    checkpointIntervalMs: number,
  ) {
    this.file = file;
    this.statements = prepareStatements(db);
    this.checkpointTimer = setInterval(() => this.checkpointIfNeeded(), checkpointIntervalMs);
    this.checkpointTimer.unref();
  }

  static open(options: SqliteEngineOptions): SqliteEngine {
    const dir = path.resolve(options.dir);
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, DATABASE_FILE_NAME);
    // timeout 0: a locked file must fail at once, not after better-sqlite3's 5 s busy wait.
    const db = new Database(file, { timeout: 0 });
    try {
      // Order matters: exclusive locking must be set before WAL is first used, so that SQLite
      // keeps the WAL index in heap memory instead of a shared-memory file.
      db.pragma("locking_mode = EXCLUSIVE");
      db.pragma("journal_mode = WAL");
      db.pragma(`synchronous = ${options.durability === "normal" ? "NORMAL" : "FULL"}`);
      db.pragma("wal_autocheckpoint = 0");
      // BEGIN EXCLUSIVE takes the write lock now, and exclusive locking mode never releases it.
      db.exec("BEGIN EXCLUSIVE");
      db.exec(SCHEMA_SQL);
      db.exec("COMMIT");
    } catch (error) {
      db.close();
      if (isBusyError(error)) throw new DataFolderInUseError(dir, file);
      throw error;
    }
    return new SqliteEngine(db, file, options.checkpointIntervalMs ?? 250);
  }

  async claim(_room: RoomRef): Promise<FenceToken> {
    this.assertOpen();
    return FENCE;
  }

  async get(ref: RoomRef, keys: readonly string[]): Promise<Map<string, Uint8Array>> {
    this.assertOpen();
    const found = new Map<string, Uint8Array>();
    const id = this.roomId(ref);
    if (id === null) return found;
    const select = this.statements.getValue;
    for (const key of keys) {
      const value = select.get(id, Buffer.from(key, "utf8")) as Buffer | undefined;
      if (value !== undefined) found.set(key, value);
    }
    return found;
  }

  async list(ref: RoomRef, query: ListQuery): Promise<Array<[string, Uint8Array]>> {
    this.assertOpen();
    const id = this.roomId(ref);
    const range = toByteRange(query);
    if (id === null || range === null) return [];
    const { lower, upper } = range;
    const lowerOperator = lower === undefined ? "" : range.lowerInclusive ? ">=" : ">";
    const statement = this.listStatement(lowerOperator, upper !== undefined, query.reverse === true);
    const parameters: unknown[] = [id];
    if (lower !== undefined) parameters.push(lower);
    if (upper !== undefined) parameters.push(upper);
    parameters.push(query.limit ?? -1);
    const rows = statement.all(...parameters) as Array<[Buffer, Buffer]>;
    const entries: Array<[string, Uint8Array]> = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      entries[i] = [row[0].toString("utf8"), row[1]];
    }
    return entries;
  }

  async getAlarm(ref: RoomRef): Promise<number | null> {
    this.assertOpen();
    const id = this.roomId(ref);
    if (id === null) return null;
    return (this.statements.getAlarm.get(id) as number | undefined) ?? null;
  }

  async listAlarms(): Promise<AlarmEntry[]> {
    this.assertOpen();
    const rows = this.statements.listAlarms.all() as Array<{ party: string; room: string; time: number }>;
    return rows.map((row) => ({ room: { party: row.party, room: row.room }, time: row.time }));
  }

  async listRooms(party: string, after: string | undefined, limit: number): Promise<string[]> {
    this.assertOpen();
    // TEXT compares with memcmp (BINARY collation): UTF-8 byte order, as the contract asks.
    return this.statements.listRooms.all(party, after ?? null, after ?? null, limit) as string[];
  }

  async commit(writes: readonly RoomWrite[]): Promise<CommitOutcome> {
    this.assertOpen();
    const fenced: RoomRef[] = [];
    const accepted: RoomWrite[] = [];
    for (const write of writes) {
      if (write.fence === FENCE) accepted.push(write);
      else fenced.push(write.room);
    }
    if (accepted.length === 0) return { fenced };
    const created: string[] = [];
    try {
      this.applyAll(accepted, created);
    } catch (error) {
      // The transaction rolled back, so rooms it created do not exist.
      for (const key of created) this.roomIds.delete(key);
      throw error;
    }
    this.commitsSinceCheckpoint++;
    return { fenced };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.checkpointTimer);
    this.db.pragma("wal_checkpoint(TRUNCATE)");
    this.db.close();
  }

  /** Runs a passive checkpoint now if anything was committed since the last one. */
  checkpointIfNeeded(): void {
    if (this.closed || this.commitsSinceCheckpoint === 0) return;
    this.commitsSinceCheckpoint = 0;
    this.db.pragma("wal_checkpoint(PASSIVE)");
  }

  private applyAll(writes: readonly RoomWrite[], created: string[]): void {
    const s = this.statements;
    this.db.exec("BEGIN");
    try {
      for (const write of writes) {
        const id = this.roomIdForWrite(write.room, created);
        if (write.deleteAll) s.deleteAllValues.run(id);
        for (const [key, value] of write.entries) {
          const keyBytes = Buffer.from(key, "utf8");
          if (value === null) s.deleteValue.run(id, keyBytes);
          else s.putValue.run(id, keyBytes, value);
        }
        if (write.alarm === null) s.deleteAlarm.run(id);
        else if (write.alarm !== undefined) s.putAlarm.run(id, write.alarm);
      }
      this.db.exec("COMMIT");
    } catch (error) {
      if (this.db.inTransaction) this.db.exec("ROLLBACK");
      throw error;
    }
  }

  private roomId(ref: RoomRef): number | null {
    const key = roomKey(ref);
    let id = this.roomIds.get(key);
    if (id === undefined) {
      id = (this.statements.findRoom.get(ref.party, ref.room) as number | undefined) ?? null;
      this.rememberRoomId(key, id);
    }
    return id;
  }

  /** Rooms get a row on their first write only, so a room that is only read costs no write. */
  private roomIdForWrite(ref: RoomRef, created: string[]): number {
    const existing = this.roomId(ref);
    if (existing !== null) return existing;
    const id = Number(this.statements.insertRoom.run(ref.party, ref.room).lastInsertRowid);
    const key = roomKey(ref);
    this.rememberRoomId(key, id);
    created.push(key);
    return id;
  }

  private rememberRoomId(key: string, id: number | null): void {
    if (this.roomIds.size >= MAX_REMEMBERED_ROOM_IDS) this.roomIds.clear();
    this.roomIds.set(key, id);
  }

  private listStatement(lowerOperator: string, hasUpper: boolean, reverse: boolean): Statement {
    const shape = `${lowerOperator}|${hasUpper}|${reverse}`;
    let statement = this.listStatements.get(shape);
    if (statement === undefined) {
      const conditions = ["room_id = ?"];
      if (lowerOperator) conditions.push(`key ${lowerOperator} ?`);
      if (hasUpper) conditions.push("key < ?");
      statement = this.db
        .prepare(
          `SELECT key, value FROM kv WHERE ${conditions.join(" AND ")} ` +
            `ORDER BY key ${reverse ? "DESC" : "ASC"} LIMIT ?`,
        )
        .raw(true);
      this.listStatements.set(shape, statement);
    }
    return statement;
  }

  private assertOpen(): void {
    if (this.closed) throw new Error("storage engine is closed");
  }
}

function prepareStatements(db: Database.Database) {
  return {
    findRoom: db.prepare("SELECT id FROM rooms WHERE party = ? AND room = ?").pluck(),
    insertRoom: db.prepare("INSERT INTO rooms (party, room) VALUES (?, ?)"),
    getValue: db.prepare("SELECT value FROM kv WHERE room_id = ? AND key = ?").pluck(),
    putValue: db.prepare("INSERT OR REPLACE INTO kv (room_id, key, value) VALUES (?, ?, ?)"),
    deleteValue: db.prepare("DELETE FROM kv WHERE room_id = ? AND key = ?"),
    deleteAllValues: db.prepare("DELETE FROM kv WHERE room_id = ?"),
    getAlarm: db.prepare("SELECT time FROM alarms WHERE room_id = ?").pluck(),
    putAlarm: db.prepare("INSERT OR REPLACE INTO alarms (room_id, time) VALUES (?, ?)"),
    deleteAlarm: db.prepare("DELETE FROM alarms WHERE room_id = ?"),
    // Room rows stay after their last key is deleted; only rooms holding data are listed.
    listRooms: db
      .prepare(
        "SELECT room FROM rooms WHERE party = ? AND (? IS NULL OR room > ?) " +
          "AND (EXISTS (SELECT 1 FROM kv WHERE kv.room_id = rooms.id) OR EXISTS (SELECT 1 FROM alarms WHERE alarms.room_id = rooms.id)) " +
          "ORDER BY room LIMIT ?",
      )
      .pluck(),
    listAlarms: db.prepare(
      "SELECT rooms.party AS party, rooms.room AS room, alarms.time AS time " +
        "FROM alarms JOIN rooms ON rooms.id = alarms.room_id ORDER BY alarms.time",
    ),
  };
}

function isBusyError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "SQLITE_BUSY" || code === "SQLITE_LOCKED";
}
