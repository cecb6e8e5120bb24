import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { createInterface } from "node:readline";
import Database from "better-sqlite3";
import { createStorageService } from "./index.js";
import { DataFolderInUseError } from "./folder-lock-error.js";
import { SqliteEngine } from "./sqlite-engine.js";
import { DATABASE_FILE_NAME } from "./sqlite-schema.js";
import { Harness, RecordingHooks, makeTempDir, removeDir } from "./test-support.js";

const FIXTURE = new URL("./fixtures/hold-folder.ts", import.meta.url).pathname;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = makeTempDir();
  cleanups.push(() => removeDir(dir));
  return dir;
}

/** Starts the fixture on `dir`; resolves with the child and its first JSON line. */
function holdFolder(dir: string): Promise<{ child: ChildProcess; message: { ready?: boolean; error?: string; name?: string } }> {
  const child = spawn(process.execPath, ["--import", "tsx", FIXTURE, dir], { stdio: ["ignore", "pipe", "inherit"] });
  cleanups.push(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("fixture did not answer within 20 s")), 20_000);
    createInterface({ input: child.stdout! }).once("line", (line) => {
      clearTimeout(timer);
      resolve({ child, message: JSON.parse(line) });
    });
    child.once("error", reject);
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

test("one database file in the data folder, created if needed, durable across reopen (durability full)", async () => {
  const dir = path.join(tempDir(), "nested", "data");
  const service = await createStorageService({ kind: "sqlite", dir });
  await service.room({ party: "main", room: "a" }, new RecordingHooks()).put("k", { v: 1 });
  await service.room({ party: "other", room: "b" }, new RecordingHooks()).put("k", 2);
  await service.close();
  assert.deepEqual(fs.readdirSync(dir).filter((name) => !name.endsWith("-wal") && !name.endsWith("-shm")), [DATABASE_FILE_NAME]);
  const reopened = await createStorageService({ kind: "sqlite", dir });
  assert.deepEqual(await reopened.room({ party: "main", room: "a" }, new RecordingHooks()).get("k"), { v: 1 });
  assert.equal(await reopened.room({ party: "other", room: "b" }, new RecordingHooks()).get("k"), 2);
  await reopened.close();
});

test("a room that is only read writes nothing to disk", async () => {
  const harness = await Harness.create("sqlite");
  cleanups.push(() => harness.dispose());
  const storage = harness.room("reader");
  assert.equal(await storage.get("k"), undefined);
  assert.deepEqual(await storage.list(), new Map());
  assert.equal(await storage.getAlarm(), null);
  assert.equal(harness.engine.commits.length, 0);
  await harness.service.close();
  const db = new Database(path.join(harness.dir!, DATABASE_FILE_NAME), { readonly: true });
  assert.equal(db.prepare("SELECT count(*) FROM rooms").pluck().get(), 0);
  db.close();
  await harness.reopen();
});

test("keys are stored as UTF-8 BLOBs", async () => {
  const harness = await Harness.create("sqlite");
  cleanups.push(() => harness.dispose());
  await harness.room().put({ "é": 1, "😀": 2 });
  await harness.service.close();
  const db = new Database(path.join(harness.dir!, DATABASE_FILE_NAME), { readonly: true });
  const keys = db.prepare("SELECT key FROM kv ORDER BY key").pluck().all() as Buffer[];
  db.close();
  assert.deepEqual(keys.map((key) => key.toString("hex")), ["c3a9", "f09f9880"]);
  await harness.reopen();
});

test("a second process cannot open a folder this process holds, and says which folder", async () => {
  const dir = tempDir();
  const service = await createStorageService({ kind: "sqlite", dir });
  cleanups.push(() => service.close());
  const { child, message } = await holdFolder(dir);
  assert.equal(message.name, "DataFolderInUseError");
  assert.ok(message.error!.includes(dir), message.error);
  await exited(child);
  assert.equal(child.exitCode, 3);
});

test("this process cannot open a folder a live process holds; it can once that process is SIGKILLed", async () => {
  const dir = tempDir();
  const { child, message } = await holdFolder(dir);
  assert.deepEqual(message, { ready: true });
  assert.throws(() => SqliteEngine.open({ dir }), (error: unknown) => {
    assert.ok(error instanceof DataFolderInUseError);
    assert.ok(error.message.includes(dir));
    return true;
  });
  child.kill("SIGKILL");
  await exited(child);
  const service = await createStorageService({ kind: "sqlite", dir });
  const storage = service.room({ party: "main", room: "held" }, new RecordingHooks());
  assert.equal(await storage.get("holder"), child.pid, "the killed process's acknowledged write survived");
  await service.close();
});

test("the WAL is checkpointed off the commit path and stays bounded", async () => {
  const dir = tempDir();
  const engine = SqliteEngine.open({ dir, durability: "normal", checkpointIntervalMs: 3_600_000 });
  cleanups.push(() => engine.close());
  const room = { party: "main", room: "wal" };
  const fence = await engine.claim(room);
  const walFile = path.join(dir, `${DATABASE_FILE_NAME}-wal`);
  const commitMany = async (round: number) => {
    for (let i = 0; i < 1200; i++) {
      await engine.commit([{ room, fence, deleteAll: false, entries: new Map([[`k${round}-${i}`, new Uint8Array(100)]]), alarm: undefined }]);
    }
  };
  await commitMany(0);
  const grown = fs.statSync(walFile).size;
  assert.ok(grown > 1000 * 4096, `no automatic checkpoint: WAL is ${grown} bytes`);
  await engine.checkpointIfNeeded();
  await commitMany(1);
  await engine.checkpointIfNeeded();
  await commitMany(2);
  assert.ok(fs.statSync(walFile).size <= grown * 1.1, "the WAL is reused after a checkpoint, not grown");
  assert.equal((await engine.list(room, {})).length, 3600);
});

test("listAlarmsDue lists the alarms due by a time, soonest first, through the time index", async () => {
  const dir = tempDir();
  const engine = SqliteEngine.open({ dir });
  cleanups.push(() => engine.close());
  const times = [5_000, 1_000, 3_000, 9_000];
  for (const [i, time] of times.entries()) {
    const room = { party: "main", room: `alarm-${i}` };
    await engine.commit([{ room, fence: await engine.claim(room), deleteAll: false, entries: new Map(), alarm: time }]);
  }
  const due = await engine.listAlarmsDue(5_000);
  assert.deepEqual(due, [
    { room: { party: "main", room: "alarm-1" }, time: 1_000 },
    { room: { party: "main", room: "alarm-2" }, time: 3_000 },
    { room: { party: "main", room: "alarm-0" }, time: 5_000 },
  ]);
  assert.deepEqual(await engine.listAlarmsDue(999), []);
  // The supervisor of --workers asks every second: it must not read the whole table to answer.
  const plan = engine.withConnection((db) =>
    db.prepare("EXPLAIN QUERY PLAN SELECT room_id FROM alarms WHERE time <= ? ORDER BY time").all(0) as Array<{ detail: string }>,
  );
  assert.match(plan.map((row) => row.detail).join("\n"), /USING (COVERING )?INDEX alarms_by_time/);
});
