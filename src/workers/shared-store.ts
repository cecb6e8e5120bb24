/**
 * The data folder as the supervisor of `partyhouse start --workers N` holds it: the folder
 * lock (one supervisor per folder), the SQLite database the workers share (schema created,
 * an unfinished restore refused, a single-process server on the folder detected), its
 * checkpoints (checkpoint-thread.ts), and the alarms table, which the supervisor polls to
 * send each due alarm to the worker that owns the room.
 */
import fs from "node:fs";
import path from "node:path";
import { Worker } from "node:worker_threads";
import Database from "better-sqlite3";
import { DataFolderInUseError } from "../storage/folder-lock-error.js";
import { SqliteEngine } from "../storage/sqlite-engine.js";
import type { AlarmEntry } from "../storage/engine.js";
import { SnapshotBusyError, removeSnapshotLeftovers, snapshotFileFor } from "../data/online-snapshot.js";
import type { CheckpointThreadData } from "./checkpoint-thread.js";
import type { SnapshotThreadData } from "./snapshot-thread.js";

/** Held with an exclusive SQLite lock for the supervisor's life (the OS drops it on any exit). */
export const SUPERVISOR_LOCK_FILE = "workers.lock";
const CHECKPOINT_INTERVAL_MS = 250;

export class SharedStore {
  private snapshotting = false;

  private constructor(
    private readonly lock: Database.Database,
    /** Keeps the database (and so its WAL file) open while workers come and go. */
    private readonly engine: SqliteEngine,
    private readonly checkpoints: Worker,
  ) {}

  static open(dir: string, onCheckpointError: (message: string) => void): SharedStore {
    const folder = path.resolve(dir);
    fs.mkdirSync(folder, { recursive: true });
    const lockFile = path.join(folder, SUPERVISOR_LOCK_FILE);
    const lock = new Database(lockFile, { timeout: 0 });
    try {
      lock.pragma("locking_mode = EXCLUSIVE");
      lock.exec("BEGIN EXCLUSIVE");
      lock.exec("COMMIT");
    } catch (error) {
      lock.close();
      if ((error as { code?: unknown }).code === "SQLITE_BUSY") throw new DataFolderInUseError(folder, lockFile);
      throw error;
    }
    let engine: SqliteEngine;
    try {
      engine = SqliteEngine.open({ dir: folder, shared: true });
    } catch (error) {
      lock.close();
      throw error;
    }
    const data: CheckpointThreadData = { file: engine.file, intervalMs: CHECKPOINT_INTERVAL_MS };
    const checkpoints = new Worker(new URL("./checkpoint-thread.js", import.meta.url), { workerData: data });
    checkpoints.on("message", (message: { type: string; message?: string }) => {
      if (message.type === "error") onCheckpointError(message.message ?? "");
    });
    checkpoints.unref();
    return new SharedStore(lock, engine, checkpoints);
  }

  /** Alarms due by `until` (ms since the epoch), every room's. */
  async dueAlarms(until: number): Promise<AlarmEntry[]> {
    return this.engine.listAlarmsDue(until);
  }

  /**
   * A consistent copy of the whole store while the workers write it (snapshot-thread.ts), as a
   * SQLite file beside the database, named as the single-process snapshots are (so a leftover
   * is removed by the next snapshot either way). One at a time.
   */
  async snapshot(): Promise<{ readonly file: string; readonly bytes: number; readonly at: Date }> {
    if (this.snapshotting) throw new SnapshotBusyError();
    this.snapshotting = true;
    const into = snapshotFileFor(this.engine.file);
    try {
      await removeSnapshotLeftovers(this.engine.file);
      const data: SnapshotThreadData = { file: this.engine.file, into };
      const thread = new Worker(new URL("./snapshot-thread.js", import.meta.url), { workerData: data });
      const at = await new Promise<number>((resolve, reject) => {
        thread.once("message", (message: { type: string; at?: number; message?: string }) =>
          message.type === "done" ? resolve(message.at!) : reject(new Error(`snapshot failed: ${message.message}`)),
        );
        thread.once("error", reject);
        thread.once("exit", () => reject(new Error("snapshot thread exited without an answer")));
      });
      return { file: into, bytes: (await fs.promises.stat(into)).size, at: new Date(at) };
    } catch (error) {
      await fs.promises.rm(into, { force: true });
      throw error;
    } finally {
      this.snapshotting = false;
    }
  }

  /** After every worker exited: a last checkpoint that empties the WAL, then the lock goes. */
  async close(): Promise<void> {
    const stopped = new Promise<void>((resolve) => {
      this.checkpoints.on("message", (message: { type: string }) => {
        if (message.type === "stopped") resolve();
      });
      this.checkpoints.once("exit", () => resolve());
    });
    // Unref'd while serving; now its answer is what the process waits for.
    this.checkpoints.ref();
    this.checkpoints.postMessage("stop");
    await stopped;
    await this.checkpoints.terminate();
    await this.engine.close();
    this.lock.close();
  }
}
