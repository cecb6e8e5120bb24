/**
 * The shared store's checkpoints, on a thread of the supervisor (they wait for the disk, and the
 * supervisor must keep routing connections meanwhile). Workers never checkpoint: with several
 * processes writing one WAL, a checkpoint in one could copy another's frames before that one
 * synced them, and a commit in another could restart the WAL before the database file was
 * synced. Here SQLite itself does it in order (`synchronous = FULL`): WAL synced, frames copied,
 * database synced, and only then is the WAL marked as copied, so no writer restarts it early.
 */
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

export interface CheckpointThreadData {
  readonly file: string;
  readonly intervalMs: number;
}

const { file, intervalMs } = workerData as CheckpointThreadData;
const db = new Database(file, { timeout: 5_000 });
db.pragma("journal_mode = WAL");
db.pragma("synchronous = FULL");
db.pragma("wal_autocheckpoint = 0");

const timer = setInterval(() => {
  try {
    db.pragma("wal_checkpoint(PASSIVE)");
  } catch (error) {
    parentPort!.postMessage({ type: "error", message: error instanceof Error ? error.message : String(error) });
  }
}, intervalMs);

parentPort!.on("message", (message: unknown) => {
  if (message !== "stop") return;
  clearInterval(timer);
  try {
    // Every worker has exited: copy everything and empty the WAL.
    db.pragma("wal_checkpoint(TRUNCATE)");
  } finally {
    db.close();
    parentPort!.postMessage({ type: "stopped" });
  }
});
