/**
 * Moving a project from y-partykit: a document y-partykit persisted in a room is there when the
 * same room is served by YServer.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { after, it } from "node:test";
import { onConnect } from "y-partykit";
import type * as Party from "../../src/types/party.js";
import { startTestServer } from "../../src/testing/index.js";
import { YServer } from "../../src/yjs/index.js";
import { partykitEditor, until } from "./support.js";

class Before implements Party.Server {
  constructor(readonly room: Party.Room) {}
  onConnect(conn: Party.Connection) {
    return onConnect(conn, this.room, { persist: { mode: "snapshot" } });
  }
}

const dataDir = mkdtempSync(join(tmpdir(), "partyhouse-yjs-migration-"));
after(() => rmSync(dataDir, { recursive: true, force: true }));

it("YServer opens a document y-partykit persisted in the same room", async () => {
  let server = await startTestServer({ parties: Before, dataDir });
  const a = partykitEditor(server.port, "moved");
  const b = partykitEditor(server.port, "moved");
  await until(() => a.synced && b.synced, "sync on y-partykit");
  a.doc.getText("t").insert(0, "written by y-partykit");
  a.doc.getMap("m").set("k", 1);
  await until(() => b.doc.getMap("m").get("k") === 1, "the edit to reach the other editor");
  a.destroy();
  b.destroy();
  await sleep(300); // y-partykit compacts when the last editor leaves
  await server.close();

  server = await startTestServer({ parties: YServer, dataDir });
  try {
    const c = partykitEditor(server.port, "moved");
    try {
      await until(() => c.synced && c.doc.getText("t").length > 0, "the document under YServer");
      assert.equal(c.doc.getText("t").toString(), "written by y-partykit");
      assert.equal(c.doc.getMap("m").get("k"), 1);
    } finally {
      c.destroy();
    }
  } finally {
    await server.close();
  }
});
