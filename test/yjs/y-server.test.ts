/**
 * YServer with the real providers (y-partykit's and y-websocket's) against an in-process
 * partyhouse: convergence, hibernation with providers connected, read-only connections,
 * custom messages, chunked messages, and reading the document over HTTP and from another room.
 */
import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import * as Y from "yjs";
import type * as Party from "../../src/types/party.js";
import { startTestServer, type TestServer } from "../../src/testing/index.js";
import { YServer, fetchDocument } from "../../src/yjs/index.js";
import { contentOf, converged, partykitEditor, until, websocketEditor, type Editor } from "./support.js";

let server: TestServer | undefined;
let editors: Editor[] = [];
afterEach(async () => {
  for (const e of editors) e.destroy();
  editors = [];
  await server?.close();
  server = undefined;
});

function track<T extends Editor>(e: T): T {
  editors.push(e);
  return e;
}

class Doc extends YServer {
  override isReadOnly(connection: Party.Connection): boolean {
    return new URL(connection.uri).searchParams.get("readonly") === "1";
  }
  override onCustomMessage(connection: Party.Connection, message: string): void {
    this.sendCustomMessage(connection, `echo:${message}`);
  }
}

/** Reads another room's document through context.parties. */
class Reader implements Party.Server {
  constructor(readonly room: Party.Room) {}
  async onRequest(): Promise<Response> {
    const doc = await fetchDocument(this.room.context.parties.main!.get(this.room.id));
    return new Response(doc.getText("t").toString());
  }
}

function edit(doc: Y.Doc, who: string): void {
  doc.transact(() => {
    doc.getText("t").insert(0, `${who};`);
    doc.getMap("m").set(who, who.length);
    doc.getArray("a").push([who]);
  });
}

describe("YServer with real providers", () => {
  it("two providers (y-partykit and y-websocket) converge on Y.Text, Y.Map and Y.Array", async () => {
    const s = (server = await startTestServer({ parties: Doc, memory: true }));
    const a = track(partykitEditor(s.port, "two"));
    const b = track(websocketEditor(s.port, "two"));
    await until(() => a.synced && b.synced, "both providers to sync");
    edit(a.doc, "alice");
    edit(b.doc, "bob");
    await until(() => converged([a, b], (d) => d.getArray("a").length === 2), "convergence");
    assert.deepEqual(contentOf(a.doc).m, { alice: 5, bob: 3 });
  });

  it("ten providers converge", async () => {
    const s = (server = await startTestServer({ parties: Doc, memory: true }));
    for (let i = 0; i < 10; i++) track(i % 2 === 0 ? partykitEditor(s.port, "ten") : websocketEditor(s.port, "ten"));
    await until(() => editors.every((e) => e.synced), "all providers to sync");
    editors.forEach((e, i) => edit(e.doc, `user${i}`));
    await until(() => converged(editors, (d) => d.getArray("a").length === 10), "ten-way convergence");
    assert.equal(Object.keys(contentOf(editors[0]!.doc).m).length, 10);
  });

  it("hibernates with providers connected; an edit after that reaches the others and awareness survives", async () => {
    const s = (server = await startTestServer({ parties: Doc, memory: false, hibernateAfterMs: 150 }));
    const a = track(partykitEditor(s.port, "sleepy"));
    const b = track(websocketEditor(s.port, "sleepy"));
    await until(() => a.synced && b.synced, "sync");
    a.provider.awareness.setLocalStateField("cursor", { anchor: 1, head: 3 });
    b.provider.awareness.setLocalStateField("cursor", { anchor: 7, head: 7 });
    edit(a.doc, "before");
    await until(() => b.doc.getText("t").toString() === "before;", "the first edit to arrive");
    await until(() => b.provider.awareness.getStates().get(a.doc.clientID)?.cursor !== undefined, "b to see a's cursor");

    await until(() => s.server.stats().resident === 0, "the room to hibernate", 5000);
    assert.equal(s.server.stats().sockets, 2, "both providers stay connected while the room hibernates");

    edit(b.doc, "after");
    await until(() => a.doc.getText("t").toString() === b.doc.getText("t").toString() && a.doc.getArray("a").length === 2, "the edit made while hibernated to arrive");

    // A newcomer after the wake sees the cursors of both survivors.
    const c = track(partykitEditor(s.port, "sleepy"));
    await until(() => c.synced, "the newcomer to sync");
    assert.equal(c.doc.getText("t").toString(), a.doc.getText("t").toString());
    await until(
      () => {
        const states = c.provider.awareness.getStates();
        return states.get(a.doc.clientID)?.cursor !== undefined && states.get(b.doc.clientID)?.cursor !== undefined;
      },
      "the newcomer to see both survivors' cursors",
    );
    assert.deepEqual(c.provider.awareness.getStates().get(a.doc.clientID)?.cursor, { anchor: 1, head: 3 });

    // A cursor change across another hibernation reaches the others; a leaver's cursor goes away.
    await until(() => s.server.stats().resident === 0, "the room to hibernate again", 5000);
    a.provider.awareness.setLocalStateField("cursor", { anchor: 2, head: 2 });
    await until(() => JSON.stringify(b.provider.awareness.getStates().get(a.doc.clientID)?.cursor) === '{"anchor":2,"head":2}', "the new cursor to arrive");
    await until(() => s.server.stats().resident === 0, "the room to hibernate a third time", 5000);
    b.destroy();
    editors = editors.filter((e) => e !== b);
    await until(() => !a.provider.awareness.getStates().has(b.doc.clientID), "b's cursor to disappear after b left");
  });

  it("refuses a read-only connection's updates", async () => {
    const s = (server = await startTestServer({ parties: Doc, memory: true }));
    const writer = track(partykitEditor(s.port, "ro"));
    const reader = track(partykitEditor(s.port, "ro", { params: { readonly: "1" } }));
    await until(() => writer.synced && reader.synced, "sync");
    edit(writer.doc, "writer");
    await until(() => reader.doc.getText("t").toString() === "writer;", "the reader to receive the writer's edit");
    edit(reader.doc, "intruder");
    edit(writer.doc, "second");
    await until(() => writer.doc.getArray("a").length === 2 && reader.doc.getArray("a").length >= 2, "the second edit");
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(writer.doc.getArray("a").toJSON(), ["writer", "second"], "the read-only edit never reached the writer");
    const stored = await (await s.fetch("/parties/main/ro?format=json&name=a")).json();
    assert.deepEqual(stored, ["writer", "second"], "nor the server's document");
  });

  it("answers custom messages and reassembles y-partykit's chunked messages over 1 MB", async () => {
    const s = (server = await startTestServer({ parties: Doc, memory: true }));
    const socket = await s.connect("/parties/main/big");
    socket.send("__YPS:ping");
    let reply: string | ArrayBuffer;
    do reply = await socket.next();
    while (typeof reply !== "string");
    assert.equal(reply, "__YPS:echo:ping");

    const a = track(partykitEditor(s.port, "big"));
    const b = track(partykitEditor(s.port, "big"));
    await until(() => a.synced && b.synced, "sync");
    const large = "x".repeat(1_500_000);
    a.doc.getText("t").insert(0, large);
    await until(() => b.doc.getText("t").length === large.length, "the 1.5 MB edit to arrive", 20_000);
  });

  it("serves the document over HTTP and to another room through context.parties", async () => {
    const s = (server = await startTestServer({ parties: { main: Doc, reader: Reader }, memory: true }));
    const a = track(partykitEditor(s.port, "shared"));
    await until(() => a.synced, "sync");
    edit(a.doc, "hello");
    await until(() => a.doc.getText("t").length > 0, "edit");
    // Wait until the server has it: a second provider receives it.
    const b = track(partykitEditor(s.port, "shared"));
    await until(() => b.doc.getText("t").toString() === "hello;", "the server to hold the edit");

    assert.equal(await (await s.fetch("/parties/main/shared?format=text&name=t")).text(), "hello;");
    const bytes = new Uint8Array(await (await s.fetch("/parties/main/shared?format=update")).arrayBuffer());
    const copy = new Y.Doc();
    Y.applyUpdate(copy, bytes);
    assert.deepEqual(contentOf(copy), contentOf(a.doc));
    assert.deepEqual(await (await s.fetch("/parties/main/shared")).json(), { t: "hello;", m: { hello: 5 }, a: ["hello"] });
    assert.equal(await (await s.fetch("/parties/reader/shared")).text(), "hello;");
  });
});

describe("YServer document lifetime", () => {
  it("drops an idle document from an awake room and reloads it, identical, when needed", async () => {
    let loads = 0;
    class Awake extends YServer {
      override readonly options = { hibernate: false };
      override readonly yjsOptions = { unloadAfterMs: 100 };
      override onLoad(): void {
        loads++;
      }
    }
    const s = (server = await startTestServer({ parties: Awake, memory: true }));
    const a = track(partykitEditor(s.port, "idle"));
    await until(() => a.synced, "sync");
    edit(a.doc, "kept");
    await until(() => loads === 1 && a.doc.getArray("a").length === 1, "the edit");
    await new Promise((resolve) => setTimeout(resolve, 400));
    assert.equal(s.server.stats().resident, 1, "the room stays awake (it does not hibernate)");
    assert.deepEqual(await (await s.fetch("/parties/main/idle?format=json&name=a")).json(), ["kept"]);
    assert.equal(loads, 2, "the document was dropped while idle and rebuilt for the request");
  });
});
