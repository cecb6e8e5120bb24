import assert from "node:assert/strict";
import { describe, it } from "node:test";
import * as Y from "yjs";
import { documentResponse } from "./document-http.js";

/** A server-side doc that knows the client's types only from an update: none of them typed. */
function receivedFrom(edit: (client: Y.Doc) => void): Y.Doc {
  const client = new Y.Doc();
  edit(client);
  const server = new Y.Doc();
  Y.applyUpdate(server, Y.encodeStateAsUpdate(client));
  return server;
}

async function json(doc: Y.Doc, query = ""): Promise<unknown> {
  return (await documentResponse(doc, new Request(`http://room/?format=json${query}`))).json();
}

describe("a document as JSON", () => {
  it("tells untyped maps, texts and arrays apart by their content", async () => {
    const doc = receivedFrom((client) => {
      client.getMap("settings").set("topic", "planning");
      client.getText("notes").insert(0, "hello");
      client.getArray("list").push([1, "two"]);
      client.getText("formatted").insert(0, "bold", { bold: true });
    });
    assert.deepEqual(await json(doc), { settings: { topic: "planning" }, notes: "hello", list: [1, "two"], formatted: "bold" });
  });

  it("keeps a map whose entries were all deleted a map, and skips deleted text", async () => {
    const doc = receivedFrom((client) => {
      const map = client.getMap("emptied");
      map.set("gone", 1);
      map.delete("gone");
      const text = client.getText("retyped");
      text.insert(0, "old");
      text.delete(0, 3);
      text.insert(0, "new");
    });
    assert.deepEqual(await json(doc, "&name=emptied"), {});
    assert.equal(await json(doc, "&name=retyped"), "new");
    // Read once, the types stay as read: the document can still be used as the client uses it.
    assert.equal(doc.getMap("emptied").size, 0);
    assert.equal(doc.getText("retyped").toString(), "new");
  });

  it("reads a type the server already uses as it is, and a missing name as null", async () => {
    const doc = new Y.Doc();
    doc.getArray<string>("typed").push(["x"]);
    assert.deepEqual(await json(doc, "&name=typed"), ["x"]);
    assert.equal(await json(doc, "&name=absent"), null);
  });
});
