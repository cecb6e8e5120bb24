import assert from "node:assert/strict";
import { test } from "node:test";
import * as Y from "yjs";
import { createStorageService } from "../storage/index.js";
import type * as Party from "../types/party.js";
import { PART_BYTES, UpdateLog } from "./update-log.js";

async function roomStorage(): Promise<Party.Storage> {
  const service = await createStorageService({ kind: "memory" });
  return service.room({ party: "main", room: "r" }, {
    operationStarted() {},
    operationEnded() {},
    alarmCommitted() {},
    writeFailed() {},
  }) as unknown as Party.Storage;
}

function rebuild(updates: Uint8Array[]): Y.Doc {
  const doc = new Y.Doc();
  for (const update of updates) Y.applyUpdate(doc, update);
  return doc;
}

test("appends split updates under the value limit and reads them back in order", async () => {
  const storage = await roomStorage();
  const { log } = await UpdateLog.load(storage);
  const doc = new Y.Doc();
  doc.on("update", (update: Uint8Array) => log.append(update));
  doc.getText("t").insert(0, "x".repeat(PART_BYTES * 2 + 17)); // one update in three parts
  for (let i = 0; i < 20; i++) doc.getArray("a").push([i]);
  await storage.sync();
  const keys = [...(await storage.list({ prefix: "yjs:" })).keys()];
  assert.equal(keys.length, 23);
  assert.ok(keys.every((key) => key.startsWith("yjs:log:")));

  const loaded = await UpdateLog.load(storage);
  const copy = rebuild(loaded.updates);
  assert.equal(copy.getText("t").length, PART_BYTES * 2 + 17);
  assert.deepEqual(copy.getArray("a").toJSON(), [...Array(20).keys()]);
});

test("compaction replaces snapshot and log; a smaller snapshot leaves no stale parts", async () => {
  const storage = await roomStorage();
  const { log } = await UpdateLog.load(storage, { compactAfterBytes: 1000 });
  const doc = new Y.Doc();
  doc.on("update", (update: Uint8Array) => log.append(update));
  doc.getText("t").insert(0, "y".repeat(PART_BYTES * 3));
  assert.equal(log.wantsCompaction, true);
  log.compact(Y.encodeStateAsUpdate(doc));
  doc.getText("t").delete(0, PART_BYTES * 3 - 5);
  log.compact(Y.encodeStateAsUpdate(doc));
  doc.getText("t").insert(0, "end:");
  await storage.sync();
  const keys = [...(await storage.list({ prefix: "yjs:" })).keys()];
  assert.deepEqual(keys.filter((k) => k.startsWith("yjs:snap:")), ["yjs:snap:000000"], "one snapshot part left");
  assert.equal(keys.filter((k) => k.startsWith("yjs:log:")).length, 1, "the log holds what came after");

  const { updates } = await UpdateLog.load(storage);
  assert.equal(rebuild(updates).getText("t").toString(), doc.getText("t").toString());
});
