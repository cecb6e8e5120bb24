/**
 * restore and import against a real SQLite target: refusing a non-empty target, resuming an
 * interrupted run from its mark, refusing another file's mark unless forced, merging or
 * replacing rooms.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { IncompleteStoreError } from "../storage/incomplete-store-error.js";
import { SqliteEngine } from "../storage/sqlite-engine.js";
import { writeExport } from "./export-writer.js";
import { importExport } from "./import.js";
import { RefusedError } from "./refused.js";
import { SqliteStore } from "./sqlite-store.js";
import type { IncompleteMark, Store, WriteBatch } from "./store.js";
import { compareStores } from "./verify.js";
import { Collect, listRoom, readableOf, roomOf, sqliteService, tempDir } from "./test-support.js";

let dir: string;
let exported: string;
let source: string;

before(async () => {
  dir = tempDir();
  source = path.join(dir, "source");
  // About 20 MB: several 8 MiB batches.
  const open = sqliteService(source);
  for (let r = 0; r < 1000; r++) {
    const storage = roomOf(open.service, { party: "main", room: `room-${String(r).padStart(4, "0")}` });
    for (let k = 0; k < 20; k++) void storage.put(`k${k}`, "v".repeat(1000));
    await storage.sync();
    await storage.close();
  }
  await open.close();
  const store = SqliteStore.openFolder(source, { create: false });
  const out = new Collect();
  await writeExport(store.records({}), out, { source: store.description });
  await store.close();
  exported = out.text;
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A store whose apply() fails once `failAfter` batches went through, as a crash would stop it. */
function failingAfter(store: Store, failAfter: number): Store {
  let applied = 0;
  return Object.assign(Object.create(store) as Store, {
    async apply(batch: WriteBatch, mark: IncompleteMark) {
      if (applied++ >= failAfter) throw new Error("simulated crash");
      await store.apply(batch, mark);
    },
  });
}

describe("restore and import", () => {
  test("an interrupted restore leaves the target marked; the engine refuses it; the same file resumes and completes it", async () => {
    const folder = path.join(dir, "resumed");
    const target = SqliteStore.openFolder(folder, { create: true });
    await assert.rejects(importExport(readableOf(exported), failingAfter(target, 1), { operation: "restore" }), /simulated crash/);
    const mark = await target.readMark();
    assert.equal(mark?.operation, "restore");
    assert.ok(mark?.position !== undefined && "lines" in mark.position && mark.position.lines > 1);
    await target.close();
    assert.throws(() => SqliteEngine.open({ dir: folder }), IncompleteStoreError);

    const again = SqliteStore.openFolder(folder, { create: true });
    const other = exported.replace(/"id":"[^"]+"/, '"id":"another-export"');
    await assert.rejects(importExport(readableOf(other), again, { operation: "restore" }), RefusedError);
    const result = await importExport(readableOf(exported), again, { operation: "restore" });
    assert.ok(result.resumedAfterLine > 1);
    assert.equal(await again.readMark(), null);
    const from = SqliteStore.openFolder(source, { create: false });
    const check = await compareStores(from, again);
    await from.close();
    await again.close();
    assert.equal(check.rooms, 1000);
    assert.deepEqual(check.mismatched, []);
  });

  test("restore refuses a non-empty target unless forced; import merges, --replace replaces", async () => {
    const folder = path.join(dir, "busy");
    const open = sqliteService(folder);
    const storage = roomOf(open.service, { party: "main", room: "room-0001" });
    void storage.put("extra", "kept?");
    await storage.sync();
    await storage.close();
    await open.close();

    const target = SqliteStore.openFolder(folder, { create: true });
    await assert.rejects(importExport(readableOf(exported), target, { operation: "restore" }), /is not empty/);
    await importExport(readableOf(exported), target, { operation: "import", filter: { prefix: "room-0001" } });
    await target.close();
    let reopened = sqliteService(folder);
    assert.equal((await listRoom(reopened, { party: "main", room: "room-0001" })).get("extra"), "kept?");
    await reopened.close();

    const replacing = SqliteStore.openFolder(folder, { create: true });
    await importExport(readableOf(exported), replacing, { operation: "import", filter: { prefix: "room-0001" }, replace: true });
    await replacing.close();
    reopened = sqliteService(folder);
    const room = await listRoom(reopened, { party: "main", room: "room-0001" });
    assert.equal(room.has("extra"), false);
    assert.equal(room.size, 20);
    await reopened.close();

    const forced = SqliteStore.openFolder(folder, { create: true });
    await importExport(readableOf(exported), forced, { operation: "restore", force: true });
    const from = SqliteStore.openFolder(source, { create: false });
    const check = await compareStores(from, forced);
    await from.close();
    await forced.close();
    assert.deepEqual(check.mismatched, []);
  });
});
