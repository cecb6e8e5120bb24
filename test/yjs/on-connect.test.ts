/**
 * y-partykit's function API from partyhouse/yjs (only the import changed): convergence,
 * persistence across a restart, `readOnly`, `load` and a `callback` handler.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, describe, it } from "node:test";
import * as Y from "yjs";
import type * as Party from "../../src/types/party.js";
import { startTestServer, type TestServer } from "../../src/testing/index.js";
import { onConnect, unstable_getYDoc, type YPartyKitOptions } from "../../src/yjs/index.js";
import { partykitEditor, until, type Editor } from "./support.js";

let server: TestServer | undefined;
let editors: Editor[] = [];
afterEach(async () => {
  for (const e of editors) e.destroy();
  editors = [];
  await server?.close();
  server = undefined;
});
const dataDir = mkdtempSync(join(tmpdir(), "partyhouse-yjs-onconnect-"));
after(() => rmSync(dataDir, { recursive: true, force: true }));

const saved: string[] = [];

function partyWith(options: (conn: Party.Connection) => YPartyKitOptions) {
  return class implements Party.Server {
    constructor(readonly room: Party.Room) {}
    onConnect(conn: Party.Connection) {
      return onConnect(conn, this.room, options(conn));
    }
    async onRequest() {
      const doc = await unstable_getYDoc(this.room, options({} as Party.Connection));
      return new Response(doc.getText("t").toString());
    }
  };
}

const Persisted = partyWith((conn) => ({
  persist: { mode: "snapshot" },
  readOnly: conn.uri?.includes("readonly=1") ?? false,
  callback: { handler: (doc: Y.Doc) => void saved.push(doc.getText("t").toString()), debounceWait: 50, debounceMaxWait: 100 },
}));

describe("onConnect (y-partykit's API)", () => {
  it("converges, persists across a restart, ignores readOnly connections, calls the callback", async () => {
    server = await startTestServer({ parties: Persisted, dataDir });
    const a = partykitEditor(server.port, "fn");
    const b = partykitEditor(server.port, "fn");
    const ro = partykitEditor(server.port, "fn", { params: { readonly: "1" } });
    editors.push(a, b, ro);
    await until(() => a.synced && b.synced && ro.synced, "sync");
    a.doc.getText("t").insert(0, "hello");
    await until(() => b.doc.getText("t").toString() === "hello" && ro.doc.getText("t").toString() === "hello", "the edit to arrive");
    ro.doc.getText("t").insert(0, "NO");
    b.doc.getText("t").insert(5, " world");
    await until(() => a.doc.getText("t").toString() === "hello world", "b's edit");
    await until(() => saved.at(-1) === "hello world", "the callback to see the document");
    assert.equal(await (await server.fetch("/parties/main/fn")).text(), "hello world");

    for (const e of editors) e.destroy();
    editors = [];
    await server.close();
    server = await startTestServer({ parties: Persisted, dataDir });
    const c = partykitEditor(server.port, "fn");
    editors.push(c);
    await until(() => c.synced && c.doc.getText("t").length > 0, "the reloaded document");
    assert.equal(c.doc.getText("t").toString(), "hello world");
  });

  it("load() fills a new document; without persist nothing is stored", async () => {
    const Loaded = partyWith(() => ({
      load: async () => {
        const source = new Y.Doc();
        source.getText("t").insert(0, "from load");
        return source;
      },
    }));
    server = await startTestServer({ parties: Loaded, memory: true });
    const a = partykitEditor(server.port, "loaded");
    editors.push(a);
    await until(() => a.synced && a.doc.getText("t").toString() === "from load", "the loaded content");
  });
});
