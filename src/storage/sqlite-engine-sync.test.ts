/**
 * The commit path at the level of system calls (sqlite-engine.ts, durability "full"): a child
 * process acknowledges writes as fast as it can under strace, then is SIGKILLed. From the trace:
 *
 * - every acknowledgement is preceded by a WAL sync that started after the last WAL write before
 *   it and finished before it (a write is on disk before anyone hears it is);
 * - a checkpoint (database file writes) starts only after the WAL is synced, and the database
 *   is synced before the WAL is written again (a restart may overwrite checkpointed frames);
 * - once serving, the main thread never syncs (an fsync there blocks every room: issue 11);
 * - after the kill, every acknowledged write is in the database.
 *
 * Skipped where strace is missing or not allowed to trace.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import { createStorageService } from "./index.js";
import { RecordingHooks, makeTempDir, removeDir } from "./test-support.js";
import { SyncCollector, readTrace, straceWorks, type Sync, type TraceLine } from "./strace-test-support.js";

const FIXTURE = new URL("./fixtures/crash-writer.ts", import.meta.url).pathname;
const ACKS_WANTED = 300;
/** Long enough for several of the engine's 250 ms checkpoints. */
const RUN_MS = 1_500;


/** Runs the writer under strace until it acknowledged ACKS_WANTED writes, then SIGKILLs it. */
async function traceWriter(dir: string, traceFile: string): Promise<string[]> {
  const child = spawn(
    "strace",
    ["-f", "-y", "-s", "64", "-e", "trace=write,pwrite64,fsync,fdatasync", "-o", traceFile, process.execPath, "--import", "tsx", FIXTURE, dir, "0"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  const acked: string[] = [];
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let ranLongEnough = false;
  await new Promise<void>((resolve, reject) => {
    const guard = setTimeout(() => reject(new Error(`only ${acked.length} acknowledgements in 60 s`)), 60_000);
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line === "ready") setTimeout(() => (ranLongEnough = true), RUN_MS);
      if (line.startsWith("ack ")) acked.push(line);
      if (acked.length >= ACKS_WANTED && ranLongEnough) {
        clearTimeout(guard);
        resolve();
      }
    });
  });
  // The writer is strace's child: kill it (not strace, which would leave it running untraced).
  process.kill(mainThreadOf(readTrace(traceFile)), "SIGKILL");
  await exited;
  return acked;
}

/** The writer's main thread: the one that printed "ready" (its tid is the process id). */
function mainThreadOf(lines: TraceLine[]): number {
  const ready = lines.find((line) => /^write\(1<[^>]*>, "ready\\n"/.test(line.text));
  assert.ok(ready, "the trace shows the writer's ready line");
  return ready.tid;
}

interface Analysis {
  walWrites: number[];
  databaseWrites: number[];
  syncs: Sync[];
  acks: number[];
  ready: number;
}

/** WAL writes, syncs (start and end line, even when strace split the call) and acks, by line. */
function analyse(lines: TraceLine[]): Analysis {
  const walWrites: number[] = [];
  const databaseWrites: number[] = [];
  const acks: number[] = [];
  const collector = new SyncCollector();
  let ready = -1;
  lines.forEach((line, index) => {
    const { text } = line;
    if (collector.see(line, index)) return;
    if (/^p?write(64)?\(\d+<[^>]*-wal>/.test(text)) walWrites.push(index);
    else if (/^p?write(64)?\(\d+<[^>]*storage\.sqlite3>/.test(text)) databaseWrites.push(index);
    else if (/^write\(1<[^>]*>, "ack /.test(text)) acks.push(index);
    else if (/^write\(1<[^>]*>, "ready\\n"/.test(text)) ready = index;
  });
  return { walWrites, databaseWrites, syncs: collector.syncs, acks, ready };
}

/** A sync of the given kind that started after `after` and finished before `before`. */
function syncBetween(syncs: Sync[], wal: boolean, after: number, before: number): Sync | undefined {
  return syncs.find((sync) => sync.wal === wal && sync.start > after && sync.end < before);
}

/** The last of `lines` (sorted line numbers) before `index`, or -1. */
function lastBefore(lines: number[], index: number): number {
  return lines.filter((line) => line < index).at(-1) ?? -1;
}

test("a write is acknowledged only after a WAL sync that followed it, and the main thread never syncs", { skip: !straceWorks && "strace cannot trace here (install it: apt-get install strace)", timeout: 120_000 }, async () => {
  const dir = makeTempDir();
  const traceFile = path.join(dir, "trace.txt");
  try {
    const acked = await traceWriter(path.join(dir, "data"), traceFile);
    const lines = readTrace(traceFile);
    const mainThread = mainThreadOf(lines);
    const { walWrites, databaseWrites, syncs, acks, ready } = analyse(lines);
    assert.ok(acks.length >= ACKS_WANTED, `the trace shows the acknowledgements (${acks.length})`);

    for (const ack of acks) {
      const lastWrite = lastBefore(walWrites, ack);
      assert.ok(lastWrite >= 0, "an acknowledged write went through the WAL");
      assert.ok(syncBetween(syncs, true, lastWrite, ack), `acknowledgement at trace line ${ack + 1} has no WAL sync between the last WAL write (line ${lastWrite + 1}) and it`);
    }
    const checkpointWrites = databaseWrites.filter((line) => line > ready);
    assert.ok(checkpointWrites.length > 0, "the run saw a checkpoint");
    for (const write of checkpointWrites) {
      const lastWalWrite = lastBefore(walWrites, write);
      assert.ok(syncBetween(syncs, true, lastWalWrite, write), `database write at trace line ${write + 1} before the WAL was synced`);
    }
    for (const walWrite of walWrites.filter((line) => line > ready)) {
      const lastDatabaseWrite = lastBefore(databaseWrites, walWrite);
      if (lastDatabaseWrite < ready) continue;
      assert.ok(syncBetween(syncs, false, lastDatabaseWrite, walWrite), `WAL write at trace line ${walWrite + 1} before the checkpointed database was synced`);
    }
    const onMainThread = syncs.filter((sync) => sync.tid === mainThread && sync.start > ready);
    assert.deepEqual(onMainThread.map((sync) => lines[sync.start]!.text), [], "no sync on the main thread while serving");

    const service = await createStorageService({ kind: "sqlite", dir: path.join(dir, "data") });
    try {
      for (const line of acked) {
        const [, room, key] = line.split(" ");
        const stored = await service.room({ party: "main", room: room! }, new RecordingHooks()).get([`${key}:a`, `${key}:b`]);
        assert.equal(stored.size, 2, `acknowledged ${room} ${key} survived the SIGKILL`);
      }
    } finally {
      await service.close();
    }
  } finally {
    removeDir(dir);
  }
});
