/**
 * The default engine: one SQLite database (better-sqlite3, WAL) in the data folder.
 *
 * - `locking_mode=EXCLUSIVE` holds an OS lock on the file for the life of the connection. That
 *   is the one-process-per-folder guard (the OS drops the lock when the process dies, even by
 *   SIGKILL), and without shared memory point reads are about twice as fast.
 * - SQLite itself never fsyncs (`synchronous=OFF`): an fsync on the main thread blocked every
 *   room for up to 38 ms under load (issue 11). This engine orders and issues the syncs itself,
 *   with fs.fdatasync on libuv's threadpool, while the main thread keeps serving:
 *   - durability "full" (the default): after a commit's frames are written to the WAL, the WAL
 *     is fdatasynced before commit() resolves, so an acknowledged write survives power loss
 *     (what `synchronous=FULL` gives). "normal": no sync per commit (survives a process kill).
 *   - A checkpoint first makes the WAL durable (before any database page is overwritten from
 *     it), copies frames with SQLite syncing nothing, then fdatasyncs the database file before
 *     the next commit may run. That next commit is what can restart the WAL, i.e. overwrite
 *     frames from its start, so those frames must be safe in the database file by then. With
 *     both rules the WAL's header after a restart is durable before anything it governs is
 *     checkpointed (SQLite's reason for syncing that header), and recovery after power loss
 *     sees what `synchronous=FULL` (or NORMAL) would leave.
 *   - Commits and checkpoints run one at a time, in order (`inDiskOrder`). Until a commit's
 *     sync ends, its rows are readable through this connection but not acknowledged: rooms keep
 *     them in their overlay and hold output (room-storage.ts); only an admin reading the engine
 *     directly may see them a sync earlier.
 *   - A failed sync leaves the page cache in an unknown state (the kernel may have dropped the
 *     dirty pages), so the engine refuses every later call instead of acknowledging anything.
 * - The automatic checkpoint would stall a commit for tens of milliseconds every ~1,000 pages,
 *   so it is off, and a passive checkpoint runs on an unref'd timer after commits happened.
 * - SQLite work is synchronous inside (better-sqlite3); the async signatures are the engine
 *   contract, and commits and checkpoints really wait for their syncs.
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
import { IncompleteStoreError } from "./incomplete-store-error.js";
import { toByteRange } from "./key-range.js";
import { roomKey, type RoomKey } from "./room-key.js";
import { DATABASE_FILE_NAME, INCOMPLETE_MARK, SCHEMA_SQL } from "./sqlite-schema.js";

export type Durability = "full" | "normal";

export interface SqliteEngineOptions {
  dir: string;
  durability?: Durability;
  /**
   * How often to checkpoint the WAL when commits happened. Default 250 ms: a checkpoint blocks
   * for about 20 µs per page it copies, so frequent small ones keep each pause short.
   */
  checkpointIntervalMs?: number;
  /**
   * Several processes use the database at once (the workers of `partyhouse start --workers`,
   * src/workers): normal locking with WAL's shared memory, a busy timeout for the write lock,
   * `BEGIN IMMEDIATE` commits, and no checkpoints here: the supervisor checkpoints (see
   * `SharedCheckpointer`), and the folder lock is the supervisor's. Default false: this
   * process holds the database exclusively.
   */
  shared?: boolean;
}

/** How long a shared-mode commit waits for another process's write lock (SQLite's busy handler). */
export const SHARED_BUSY_TIMEOUT_MS = 5_000;
/** How long a shared-mode open waits for the write lock before it calls the folder in use. */
const SHARED_OPEN_BUSY_TIMEOUT_MS = 1_000;

/** The exclusive lock is the folder lock: this process holds it for as long as it runs. */
const FENCE: FenceToken = 1;
/** Room ids remembered in memory; past this the map starts over (ids are re-read on demand). */
const MAX_REMEMBERED_ROOM_IDS = 100_000;

type Statement = Database.Statement<unknown[], unknown>;

export class SqliteEngine implements StorageEngine {
  readonly kind = "sqlite";
  readonly file: string;
  /** Room id, or null for a room that has never been written (reads of it need no query). */
  private readonly roomIds = new Map<RoomKey, number | null>();
  private readonly listStatements = new Map<string, Statement>();
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly checkpointTimer: NodeJS.Timeout;
  private commitsSinceCheckpoint = 0;
  private closed = false;
  /** Commits and checkpoints, one after another: each waits for the syncs of the one before. */
  private diskTail: Promise<void> = Promise.resolve();
  private checkpointQueued = false;
  /** Frames were written to the WAL since it was last synced ("normal" durability only). */
  private walUnsynced = false;
  /** Set when a sync failed: nothing is acknowledged or read after that. */
  private failure: Error | undefined;

  private constructor(
    private readonly db: Database.Database,
    file: string,
    private readonly files: DurableFiles,
    private readonly durability: Durability,
    checkpointIntervalMs: number,
    /** Opened in shared mode (several processes write it: --workers). */
    readonly shared: boolean,
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
    const shared = options.shared === true;
    // timeout 0: a locked file must fail at once, not after better-sqlite3's 5 s busy wait.
    // Shared: the other processes' commits are short, so waiting for the write lock is right.
    const db = new Database(file, { timeout: shared ? SHARED_BUSY_TIMEOUT_MS : 0 });
    try {
      // Order matters: exclusive locking must be set before WAL is first used, so that SQLite
      // keeps the WAL index in heap memory instead of a shared-memory file.
      if (!shared) db.pragma("locking_mode = EXCLUSIVE");
      db.pragma("journal_mode = WAL");
      // The engine syncs (see the top of this file); SQLite must never block the thread on it.
      db.pragma("synchronous = OFF");
      db.pragma("wal_autocheckpoint = 0");
      // BEGIN EXCLUSIVE takes the write lock now, and exclusive locking mode never releases it.
      // Shared mode: a process holding the folder exclusively makes this fail (busy) within
      // 1 s; another worker's schema check, which holds the write lock for milliseconds while
      // workers start together, is waited for (with 0 it failed as "in use" at random).
      if (shared) db.pragma(`busy_timeout = ${SHARED_OPEN_BUSY_TIMEOUT_MS}`);
      db.exec(shared ? "BEGIN IMMEDIATE" : "BEGIN EXCLUSIVE");
      db.exec(SCHEMA_SQL);
      db.exec("COMMIT");
      if (shared) db.pragma(`busy_timeout = ${SHARED_BUSY_TIMEOUT_MS}`);
      const mark = db.prepare("SELECT value FROM meta WHERE key = ?").pluck().get(INCOMPLETE_MARK) as string | undefined;
      if (mark !== undefined) throw new IncompleteStoreError(`The data folder ${dir}`, mark);
    } catch (error) {
      db.close();
      if (isBusyError(error)) throw new DataFolderInUseError(dir, file);
      throw error;
    }
    let files: DurableFiles;
    try {
      files = openDurableFiles(dir, file);
    } catch (error) {
      db.close();
      throw error;
    }
    return new SqliteEngine(db, file, files, options.durability ?? "full", options.checkpointIntervalMs ?? 250, shared);
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

  /** Alarms due by `until` (ms since the epoch), every room's, soonest first (by the time index). */
  async listAlarmsDue(until: number): Promise<AlarmEntry[]> {
    this.assertOpen();
    const rows = this.statements.listAlarmsDue.all(until) as Array<{ party: string; room: string; time: number }>;
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
    await this.inDiskOrder(() => this.commitDurably(accepted));
    return { fenced };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.checkpointTimer);
    await this.diskTail;
    // Shared: the supervisor checkpoints once every worker is gone.
    if (this.failure === undefined && !this.shared) {
      // Off the serving path now: let SQLite sync the WAL, then the database, before it
      // truncates the WAL.
      this.db.pragma("synchronous = FULL");
      this.db.pragma("wal_checkpoint(TRUNCATE)");
    }
    this.db.close();
    closeDurableFiles(this.files);
  }

  /**
   * Runs synchronous `work` on the engine's connection, between two transactions (every commit
   * and checkpoint runs its SQL synchronously, so any call from JavaScript falls between them).
   * For the online snapshot (src/data/online-snapshot.ts), which must read and mirror through
   * the connection that holds the exclusive lock.
   */
  withConnection<T>(work: (db: Database.Database) => T): T {
    this.assertOpen();
    return work(this.db);
  }

  /**
   * Queues a passive checkpoint if anything was committed since the last one. Resolves when it
   * is done, its syncs included; a failure is kept in `failure` (every later call throws it).
   */
  checkpointIfNeeded(): Promise<void> {
    if (this.shared) return this.diskTail;
    if (this.closed || this.failure !== undefined || this.commitsSinceCheckpoint === 0 || this.checkpointQueued) {
      return this.diskTail;
    }
    this.checkpointQueued = true;
    return this.inDiskOrder(() => {
      this.checkpointQueued = false;
      this.commitsSinceCheckpoint = 0;
      return this.checkpointDurably();
    }).catch(() => {});
  }

  /** Runs `step` after every commit and checkpoint queued before it has finished. */
  private inDiskOrder(step: () => Promise<void>): Promise<void> {
    const run = this.diskTail.then(step);
    this.diskTail = run.catch(() => {});
    return run;
  }

  /** One transaction, then (durability "full") the WAL sync that makes it acknowledged. */
  private async commitDurably(writes: readonly RoomWrite[]): Promise<void> {
    if (this.failure !== undefined) throw this.failure;
    const created: RoomKey[] = [];
    try {
      this.applyAll(writes, created);
    } catch (error) {
      // The transaction rolled back, so rooms it created do not exist.
      for (const key of created) this.roomIds.delete(key);
      throw error;
    }
    this.commitsSinceCheckpoint++;
    if (this.durability === "full") await this.sync(this.files.wal, "WAL");
    else this.walUnsynced = true;
  }

  /**
   * Checkpoint with the syncs SQLite would do, off the main thread: the WAL before database
   * pages are overwritten from it, the database before a commit may restart the WAL.
   */
  private async checkpointDurably(): Promise<void> {
    if (this.walUnsynced) {
      this.walUnsynced = false;
      await this.sync(this.files.wal, "WAL");
    }
    const [result] = this.db.pragma("wal_checkpoint(PASSIVE)") as Array<{ checkpointed: number }>;
    if ((result?.checkpointed ?? 0) > 0) await this.sync(this.files.database, "database");
  }

  /** fdatasync on libuv's threadpool; a failure disables the engine for good. */
  private sync(fd: number, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      fs.fdatasync(fd, (error) => {
        if (error === null) return resolve();
        this.failure ??= new Error(`storage engine stopped: syncing the ${what} file failed (${error.message})`, { cause: error });
        reject(this.failure);
      });
    });
  }

  private applyAll(writes: readonly RoomWrite[], created: RoomKey[]): void {
    const s = this.statements;
    // Shared: take the write lock first, so a read inside the transaction cannot make the later
    // write fail on a snapshot another process's commit has made stale.
    this.db.exec(this.shared ? "BEGIN IMMEDIATE" : "BEGIN");
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
      // Shared: another process may give the room its row later (the room moved there and back),
      // so only ids are remembered, never their absence.
      if (id !== null || !this.shared) this.rememberRoomId(key, id);
    }
    return id;
  }

  /** Rooms get a row on their first write only, so a room that is only read costs no write. */
  private roomIdForWrite(ref: RoomRef, created: RoomKey[]): number {
    const existing = this.roomId(ref);
    if (existing !== null) return existing;
    // Shared: the row may have been created by another process since the lookup above.
    const id = this.shared
      ? (this.statements.insertRoomIfMissing.run(ref.party, ref.room), this.statements.findRoom.get(ref.party, ref.room) as number)
      : Number(this.statements.insertRoom.run(ref.party, ref.room).lastInsertRowid);
    const key = roomKey(ref);
    this.rememberRoomId(key, id);
    created.push(key);
    return id;
  }

  private rememberRoomId(key: RoomKey, id: number | null): void {
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
    if (this.failure !== undefined) throw this.failure;
  }
}

/** Descriptors the engine syncs through; Linux syncs a file's data whichever fd names it. */
interface DurableFiles {
  readonly wal: number;
  readonly database: number;
}

/**
 * Opens the WAL and the database file for syncing, and makes the start state durable: both
 * files and their directory entries (SQLite would sync the directory of a new file; with
 * synchronous=OFF it does not). In exclusive locking mode SQLite keeps the WAL file for the
 * life of the connection (it only truncates it, at close), so these fds stay the right files.
 */
function openDurableFiles(dir: string, file: string): DurableFiles {
  const opened: number[] = [];
  try {
    const wal = fs.openSync(`${file}-wal`, "r+");
    opened.push(wal);
    const database = fs.openSync(file, "r+");
    opened.push(database);
    const directory = fs.openSync(dir, "r");
    opened.push(directory);
    fs.fdatasyncSync(wal);
    fs.fsyncSync(database);
    fs.fsyncSync(directory);
    fs.closeSync(opened.pop()!);
    return { wal, database };
  } catch (error) {
    for (const fd of opened) fs.closeSync(fd);
    throw error;
  }
}

function closeDurableFiles(files: DurableFiles): void {
  fs.closeSync(files.wal);
  fs.closeSync(files.database);
}

function prepareStatements(db: Database.Database) {
  return {
    findRoom: db.prepare("SELECT id FROM rooms WHERE party = ? AND room = ?").pluck(),
    insertRoom: db.prepare("INSERT INTO rooms (party, room) VALUES (?, ?)"),
    insertRoomIfMissing: db.prepare("INSERT INTO rooms (party, room) VALUES (?, ?) ON CONFLICT DO NOTHING"),
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
    listAlarmsDue: db.prepare(
      "SELECT rooms.party AS party, rooms.room AS room, alarms.time AS time " +
        "FROM alarms JOIN rooms ON rooms.id = alarms.room_id WHERE alarms.time <= ? ORDER BY alarms.time",
    ),
  };
}

function isBusyError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === "SQLITE_BUSY" || code === "SQLITE_LOCKED";
}
