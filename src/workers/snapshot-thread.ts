/**
 * `GET /api/snapshot` with `--workers`: a consistent copy of the shared store, on a thread of the
 * supervisor. Several processes write the store, so the single-process way (triggers on the
 * engine's own connection, src/data/online-snapshot.ts) would miss the other workers' commits.
 * Here one read transaction does it: `VACUUM INTO` reads the whole database from one WAL
 * snapshot (every commit wholly in or wholly out, each acknowledged write already committed),
 * and in WAL mode a reader never blocks the writers.
 */
import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";

export interface SnapshotThreadData {
  readonly file: string;
  readonly into: string;
}

const { file, into } = workerData as SnapshotThreadData;
const db = new Database(file, { timeout: 5_000 });
try {
  const at = Date.now();
  db.prepare("VACUUM INTO ?").run(into);
  parentPort!.postMessage({ type: "done", at });
} catch (error) {
  parentPort!.postMessage({ type: "error", message: error instanceof Error ? error.message : String(error) });
} finally {
  db.close();
}
