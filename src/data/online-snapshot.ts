/**
 * A consistent copy of a SQLite store while the server keeps writing it, taken through the
 * engine's own connection (nothing else can read a database held with locking_mode=EXCLUSIVE),
 * in slices of about 2 ms so no room waits longer than that for its commit.
 *
 * How: the copy file is ATTACHed to the engine's connection, and TEMP triggers on the engine's
 * tables repeat every change into it, inside the engine's own transaction. Then the tables are
 * copied in primary-key order, a slice per turn of the event loop (`INSERT OR REPLACE … SELECT`
 * over a key range). When the last slice is done, the copy equals the database at that moment:
 * a row copied by a slice and changed later was changed in the copy too, by the trigger, in the
 * same transaction as in the database; a row changed before its slice was copied with its new
 * value (and a row deleted before its slice is not copied). Every commit is either wholly in
 * the copy or not at all, so no transaction is torn; and every write acknowledged before the
 * snapshot began was committed before it, so it is there. The copy never syncs on the main
 * thread (journal in memory, synchronous=OFF); it is a scratch file, deleted after use.
 */
import fs from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { SqliteEngine } from "../storage/sqlite-engine.js";
import { SCHEMA_SQL } from "../storage/sqlite-schema.js";

/** Wall time of one copy slice on the main thread. */
const SLICE_BUDGET_MS = 2;
const SCHEMA = "ph_snapshot";
const FILE_INFIX = ".snapshot-";

export interface OnlineSnapshot {
  /** The copy: a standalone SQLite database with the store's schema. */
  readonly file: string;
  /** When the copy equalled the database. */
  readonly at: Date;
  readonly bytes: number;
  /** Slices run, and the longest one (ms): what the snapshot cost the event loop. */
  readonly slices: number;
  readonly longestSliceMs: number;
}

/** Tables and the key the copy walks each one by (its primary key). */
const TABLES = [
  { name: "rooms", key: ["id"], columns: ["id", "party", "room"] },
  { name: "alarms", key: ["room_id"], columns: ["room_id", "time"] },
  { name: "kv", key: ["room_id", "key"], columns: ["room_id", "key", "value"] },
] as const;

let running = false;

/** Takes a snapshot of the engine's store next to its database file. One at a time per process. */
export async function takeOnlineSnapshot(engine: SqliteEngine): Promise<OnlineSnapshot> {
  if (running) throw new SnapshotBusyError();
  running = true;
  const file = snapshotFileFor(engine.file);
  try {
    await removeSnapshotLeftovers(engine.file);
    const scratch = new Database(file);
    // A scratch file: no sync on the main thread for it, ever.
    scratch.pragma("journal_mode = OFF");
    scratch.pragma("synchronous = OFF");
    scratch.exec(SCHEMA_SQL);
    scratch.close();
    return await copyInto(engine, file);
  } catch (error) {
    await fs.promises.rm(file, { force: true });
    throw error;
  } finally {
    running = false;
  }
}

/** A new snapshot file's name: beside the database, found again by removeSnapshotLeftovers. */
export function snapshotFileFor(databaseFile: string): string {
  return `${databaseFile}${FILE_INFIX}${process.pid}-${Date.now()}`;
}

export class SnapshotBusyError extends Error {
  constructor() {
    super("a snapshot of this store is being taken already; try again when it is done");
    this.name = "SnapshotBusyError";
  }
}

async function copyInto(engine: SqliteEngine, file: string): Promise<OnlineSnapshot> {
  engine.withConnection((db) => {
    db.prepare(`ATTACH DATABASE ? AS ${SCHEMA}`).run(file);
    db.pragma(`${SCHEMA}.journal_mode = MEMORY`);
    db.pragma(`${SCHEMA}.synchronous = OFF`);
    db.exec(triggersSql());
  });
  let detached = false;
  const detach = () => {
    if (detached) return;
    detached = true;
    engine.withConnection((db) => {
      for (const table of TABLES) {
        for (const event of ["insert", "update", "delete"]) db.exec(`DROP TRIGGER IF EXISTS temp.${triggerName(table.name, event)}`);
      }
      db.exec(`DETACH DATABASE ${SCHEMA}`);
    });
  };
  let slices = 0;
  let longest = 0;
  try {
    for (const table of TABLES) {
      const copier = new TableCopier(table);
      let rows = 64;
      for (;;) {
        const started = performance.now();
        const done = engine.withConnection((db) => copier.slice(db, rows));
        const elapsed = performance.now() - started;
        slices++;
        longest = Math.max(longest, elapsed);
        if (done) break;
        // Aim each slice at the budget: rows scale with how long the last one took, at most
        // doubling, so one slice that ran fast by luck does not make the next one long.
        rows = Math.max(16, Math.min(50_000, rows * 2, Math.floor((rows * SLICE_BUDGET_MS) / Math.max(elapsed, 0.05))));
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    // The moment the last slice ended (this same turn) is the snapshot's point in time.
    const at = new Date();
    detach();
    return { file, at, bytes: fs.statSync(file).size, slices, longestSliceMs: longest };
  } catch (error) {
    try {
      detach();
    } catch {
      // The engine closed meanwhile: its connection, triggers and attachment are gone with it.
    }
    throw error;
  }
}

/** Copies one table in key order, a range per slice: (last copied key, next boundary]. */
class TableCopier {
  private last: unknown[] | undefined;
  private readonly statements = new Map<string, Database.Statement<unknown[], unknown>>();

  constructor(private readonly table: (typeof TABLES)[number]) {}

  /** Copies up to `rows` rows; true once the table is done. */
  slice(db: Database.Database, rows: number): boolean {
    const after = this.last ?? [];
    // The slice ends at the rows-th key from here; without one, the rest of the table is the last slice.
    const boundary = this.statement(db, "boundary").get(...after, rows - 1) as unknown[] | undefined;
    this.statement(db, boundary === undefined ? "rest" : "range").run(...after, ...(boundary ?? []));
    this.last = boundary;
    return boundary === undefined;
  }

  private statement(db: Database.Database, kind: "boundary" | "range" | "rest"): Database.Statement<unknown[], unknown> {
    const first = this.last === undefined;
    const name = `${kind}:${first}`;
    let statement = this.statements.get(name);
    if (statement === undefined) {
      const { name: table, key, columns } = this.table;
      const keys = key.join(", ");
      const places = key.map(() => "?").join(", ");
      const conditions = [...(first ? [] : [`(${keys}) > (${places})`]), ...(kind === "range" ? [`(${keys}) <= (${places})`] : [])];
      const where = conditions.length === 0 ? "" : `WHERE ${conditions.join(" AND ")}`;
      statement =
        kind === "boundary"
          ? db.prepare(`SELECT ${keys} FROM main.${table} ${where} ORDER BY ${keys} LIMIT 1 OFFSET ?`).raw(true)
          : db.prepare(`INSERT OR REPLACE INTO ${SCHEMA}.${table} (${columns.join(", ")}) SELECT ${columns.join(", ")} FROM main.${table} ${where}`);
      this.statements.set(name, statement);
    }
    return statement;
  }
}

function triggerName(table: string, event: string): string {
  return `${SCHEMA}_${table}_${event}`;
}

/** Every change to the engine's tables, repeated into the copy in the same transaction. */
function triggersSql(): string {
  return TABLES.map((table) => {
    const columns = table.columns.join(", ");
    const newValues = table.columns.map((column) => `new.${column}`).join(", ");
    const matchOld = table.key.map((column) => `${column} = old.${column}`).join(" AND ");
    const copy = `INSERT OR REPLACE INTO ${SCHEMA}.${table.name} (${columns}) VALUES (${newValues});`;
    const remove = `DELETE FROM ${SCHEMA}.${table.name} WHERE ${matchOld};`;
    return [
      `CREATE TEMP TRIGGER ${triggerName(table.name, "insert")} AFTER INSERT ON main.${table.name} BEGIN ${copy} END;`,
      `CREATE TEMP TRIGGER ${triggerName(table.name, "update")} AFTER UPDATE ON main.${table.name} BEGIN ${remove} ${copy} END;`,
      `CREATE TEMP TRIGGER ${triggerName(table.name, "delete")} AFTER DELETE ON main.${table.name} BEGIN ${remove} END;`,
    ].join("\n");
  }).join("\n");
}

/**
 * Copies a killed process left behind (the folder is this process's alone: the engine's lock).
 * Removed off the main thread: unlinking a large file can take a good part of a second.
 */
/** Deletes snapshot files a crash left beside the database (their names start the same). */
export async function removeSnapshotLeftovers(databaseFile: string): Promise<void> {
  const dir = path.dirname(databaseFile);
  const prefix = `${path.basename(databaseFile)}${FILE_INFIX}`;
  for (const name of await fs.promises.readdir(dir)) {
    if (name.startsWith(prefix)) await fs.promises.rm(path.join(dir, name), { force: true });
  }
}
