// The floor the storage benchmark compares against: better-sqlite3 used directly, with the same
// schema, pragmas and bytes as partyhouse's SQLite engine, and nothing else (no cache, no
// coalescing, no gates). Values are v8-serialized on write and deserialized on read, because
// the same commits need the same bytes and a read must give back a value.
import path from "node:path";
import v8 from "node:v8";
import Database from "better-sqlite3";
import { SCHEMA_SQL } from "../../src/storage/sqlite-schema.js";

export class BareSqlite {
  private readonly db: Database.Database;
  private readonly put: Database.Statement;
  private readonly get: Database.Statement;
  private readonly list: Database.Statement;
  private readonly roomId: number;

  constructor(dir: string, durability: "full" | "normal") {
    this.db = new Database(path.join(dir, "bare.sqlite3"));
    this.db.pragma("locking_mode = EXCLUSIVE");
    this.db.pragma("journal_mode = WAL");
    this.db.pragma(`synchronous = ${durability === "full" ? "FULL" : "NORMAL"}`);
    this.db.pragma("wal_autocheckpoint = 0");
    this.db.exec(SCHEMA_SQL);
    this.roomId = Number(this.db.prepare("INSERT INTO rooms (party, room) VALUES ('main', 'bench')").run().lastInsertRowid);
    this.put = this.db.prepare("INSERT OR REPLACE INTO kv (room_id, key, value) VALUES (?, ?, ?)");
    this.get = this.db.prepare("SELECT value FROM kv WHERE room_id = ? AND key = ?").pluck();
    this.list = this.db.prepare("SELECT key, value FROM kv WHERE room_id = ? AND key >= ? ORDER BY key LIMIT ?").raw(true);
  }

  /** One transaction holding `entries`. */
  commit(entries: ReadonlyArray<readonly [string, unknown]>): void {
    this.db.exec("BEGIN");
    for (const [key, value] of entries) this.put.run(this.roomId, Buffer.from(key, "utf8"), v8.serialize(value));
    this.db.exec("COMMIT");
  }

  read(key: string): unknown {
    const bytes = this.get.get(this.roomId, Buffer.from(key, "utf8")) as Buffer | undefined;
    return bytes === undefined ? undefined : v8.deserialize(bytes);
  }

  readRange(start: string, limit: number): Map<string, unknown> {
    const rows = this.list.all(this.roomId, Buffer.from(start, "utf8"), limit) as Array<[Buffer, Buffer]>;
    const result = new Map<string, unknown>();
    for (const [key, value] of rows) result.set(key.toString("utf8"), v8.deserialize(value));
    return result;
  }

  checkpoint(): void {
    this.db.pragma("wal_checkpoint(PASSIVE)");
  }

  close(): void {
    this.db.close();
  }
}
