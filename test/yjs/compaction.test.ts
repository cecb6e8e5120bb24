/**
 * 100 MB of edit history (1,000 updates of ~100 KB each: replace the whole text) sent over the
 * wire protocol: the log compacts into a snapshot as it goes, storage stays small, and after a
 * restart the document loads back identical.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, it } from "node:test";
import * as Y from "yjs";
import type * as Party from "../../src/types/party.js";
import { startTestServer, type TestSocket } from "../../src/testing/index.js";
import { YServer } from "../../src/yjs/index.js";
import { MESSAGE_SYNC, syncStep1Message, updateMessage } from "../../src/yjs/protocol.js";

/** Reports what the document takes in storage. */
class Doc extends YServer {
  override async onRequest(request: Party.Request): Promise<Response> {
    if (!new URL(request.url).pathname.endsWith("/storage")) return super.onRequest(request);
    const all = await this.room.storage.list<Uint8Array>({ prefix: "yjs:" });
    let log = 0;
    let snapshot = 0;
    for (const [key, value] of all) {
      if (key.startsWith("yjs:log:")) log += value.byteLength;
      else snapshot += value.byteLength;
    }
    return Response.json({ keys: all.size, log, snapshot });
  }
}

/** Waits for a sync step 2 (the reply to a step 1, sent once earlier writes are durable). */
async function roundTrip(socket: TestSocket, doc: Y.Doc): Promise<void> {
  socket.send(syncStep1Message(doc));
  for (;;) {
    const message = await socket.next(30_000);
    if (typeof message === "string") continue;
    const bytes = new Uint8Array(message);
    if (bytes[0] === MESSAGE_SYNC && bytes[1] === 1) return;
  }
}

const dataDir = mkdtempSync(join(tmpdir(), "partyhouse-yjs-compaction-"));
after(() => rmSync(dataDir, { recursive: true, force: true }));

it("compacts 100 MB of edit history into a snapshot that loads back identical", async () => {
  let server = await startTestServer({ parties: Doc, dataDir });
  const socket = await server.connect("/parties/main/history");
  const doc = new Y.Doc();
  const text = doc.getText("t");
  const updates: Uint8Array[] = [];
  doc.on("update", (update: Uint8Array) => updates.push(update));
  let sent = 0;
  for (let i = 0; i < 1000; i++) {
    doc.transact(() => {
      text.delete(0, text.length);
      text.insert(0, `${i}:`.padEnd(100_000, String.fromCharCode(97 + (i % 26))));
    });
    for (const update of updates.splice(0)) {
      socket.send(updateMessage(update));
      sent += update.byteLength;
    }
    if (i % 50 === 49) await roundTrip(socket, doc);
  }
  await roundTrip(socket, doc);
  assert.ok(sent >= 100_000_000, `sent ${sent} bytes of updates`);

  const stored = (await (await server.fetch("/parties/main/history/storage")).json()) as { keys: number; log: number; snapshot: number };
  assert.ok(stored.snapshot > 0, "a snapshot was written");
  assert.ok(stored.log + stored.snapshot < 3_000_000, `storage holds ${stored.log + stored.snapshot} bytes, not the history`);

  socket.terminate();
  await server.close();
  server = await startTestServer({ parties: Doc, dataDir });
  try {
    const bytes = new Uint8Array(await (await server.fetch("/parties/main/history?format=update")).arrayBuffer());
    const loaded = new Y.Doc();
    Y.applyUpdate(loaded, bytes);
    assert.equal(loaded.getText("t").toString(), text.toString());
    assert.deepEqual(Y.encodeStateVector(loaded), Y.encodeStateVector(doc));
    assert.deepEqual(Y.encodeStateAsUpdate(loaded), Y.encodeStateAsUpdate(doc), "the same document, byte for byte");
  } finally {
    await server.close();
  }
});
