/**
 * A backup taken while 32 writers keep writing restores to a state that holds every write
 * acknowledged (`await sync()` resolved) before the backup began, and no torn transaction: on
 * SQLite through the online snapshot (the path of `GET /api/snapshot`), on PostgreSQL through a
 * snapshot transaction. Each writer writes, in one turn, a counter into two rooms and a log key
 * (one group commit, so one transaction): a restored counter must equal its twin and have its
 * whole log.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { createTestDatabase, type TestDatabase } from "../cluster/test-support.js";
import type { SqliteEngine } from "../storage/sqlite-engine.js";
import { writeExport } from "./export-writer.js";
import { importExport } from "./import.js";
import { takeOnlineSnapshot } from "./online-snapshot.js";
import { PgStore } from "./pg-store.js";
import { SqliteStore } from "./sqlite-store.js";
import type { StoreReader } from "./store.js";
import { Collect, listRoom, postgresService, readableOf, roomOf, sqliteService, tempDir, type OpenService } from "./test-support.js";

const WRITERS = 32;
let dir: string;
let database: TestDatabase;

before(async () => {
  dir = tempDir();
  database = await createTestDatabase();
});

after(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await database.drop();
});

/** Bulk the store up so that the backup takes many slices while the writers run. */
async function fill(open: OpenService, rooms: number, keysPerRoom: number): Promise<void> {
  const value = "x".repeat(1000);
  for (let r = 0; r < rooms; r++) {
    const storage = roomOf(open.service, { party: "bulk", room: `r${r}` });
    for (let k = 0; k < keysPerRoom; k++) void storage.put(`k${k}`, value);
    await storage.sync();
    await storage.close();
  }
}

interface Writers {
  /** Per writer, the last counter whose commit was acknowledged. */
  readonly acknowledged: number[];
  stop(): Promise<void>;
}

function startWriters(open: OpenService): Writers {
  const acknowledged = new Array<number>(WRITERS).fill(-1);
  let running = true;
  const loops = Array.from({ length: WRITERS }, async (_, w) => {
    const x = roomOf(open.service, { party: "writers", room: `w${w}-x` });
    const y = roomOf(open.service, { party: "writers", room: `w${w}-y` });
    for (let i = 0; running; i++) {
      // One turn: one group commit, so one transaction, across both rooms.
      void x.put("counter", i);
      void x.put(`log:${String(i).padStart(6, "0")}`, i);
      void y.put("counter", i);
      await Promise.all([x.sync(), y.sync()]);
      acknowledged[w] = i;
    }
    await x.close();
    await y.close();
  });
  return {
    acknowledged,
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
}

/** Restores the export of `reader` into a fresh folder and checks the writers' rooms there. */
async function restoreAndCheck(reader: StoreReader, acknowledgedBefore: readonly number[], name: string): Promise<void> {
  const out = new Collect();
  await writeExport(reader.records({}), out, { source: reader.description });
  const folder = path.join(dir, name);
  const target = SqliteStore.openFolder(folder, { create: true });
  await importExport(readableOf(out.text), target, { operation: "restore" });
  await target.close();
  const restored = sqliteService(folder);
  try {
    assert.equal((await listRoom(restored, { party: "bulk", room: "r0" })).size > 0, true);
    for (let w = 0; w < WRITERS; w++) {
      const x = await listRoom(restored, { party: "writers", room: `w${w}-x` });
      const y = await listRoom(restored, { party: "writers", room: `w${w}-y` });
      const counter = (x.get("counter") as number | undefined) ?? -1;
      assert.ok(counter >= acknowledgedBefore[w]!, `writer ${w}: acknowledged ${acknowledgedBefore[w]} before the backup, restored ${counter}`);
      assert.equal(y.get("counter") ?? -1, counter, `writer ${w}: a transaction was torn across rooms`);
      assert.equal(x.size - (counter >= 0 ? 1 : 0), counter + 1, `writer ${w}: the log must hold every write up to the counter`);
    }
  } finally {
    await restored.close();
  }
}

describe("a backup under 32 concurrent writers", () => {
  test("SQLite: the online snapshot holds every acknowledged write and no torn transaction", async () => {
    const open = sqliteService(path.join(dir, "sqlite"));
    await fill(open, 200, 100);
    const writers = startWriters(open);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const before = [...writers.acknowledged];
    let snapshot;
    try {
      snapshot = await takeOnlineSnapshot(open.engine as SqliteEngine);
    } finally {
      await writers.stop();
    }
    const after = [...writers.acknowledged];
    await open.close();
    assert.ok(snapshot.slices > 10, `the copy took ${snapshot.slices} slices, so writers ran between them`);
    assert.ok(after.some((value, w) => value > before[w]!), "writers kept committing during the backup");
    const store = SqliteStore.openSnapshot(snapshot.file, "snapshot");
    try {
      await restoreAndCheck(store, before, "sqlite-restored");
    } finally {
      await store.close();
      fs.rmSync(snapshot.file, { force: true });
    }
  });

  test("PostgreSQL: the snapshot transaction holds every acknowledged write and no torn transaction", async () => {
    const open = await postgresService(database.url);
    await fill(open, 50, 100);
    const writers = startWriters(open);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = [...writers.acknowledged];
    const store = await PgStore.open(database.url, { write: false });
    try {
      // The snapshot is taken by the backup's first query; writers keep going while it is read.
      await restoreAndCheck(store, before, "pg-restored");
      assert.ok(writers.acknowledged.some((value, w) => value > before[w]!), "writers kept committing during the backup");
    } finally {
      await store.close();
      await writers.stop();
      await open.close();
    }
  });
});
