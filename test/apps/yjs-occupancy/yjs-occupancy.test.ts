import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import * as Y from "yjs";
import YPartyKitProvider from "y-partykit/provider";
import { collect, startApp, until, type RunningApp } from "../support.js";

describe("yjs-occupancy app: a y-partykit editor reporting its editors to an occupancy party", () => {
  let app: RunningApp;
  const providers: YPartyKitProvider[] = [];
  before(async () => {
    app = await startApp("yjs-occupancy");
  });
  after(async () => {
    // A provider's awareness keeps an interval timer of its own: destroy it too.
    for (const provider of providers) {
      provider.destroy();
      provider.awareness.destroy();
    }
    await app.dispose();
  });

  function editor(doc: Y.Doc): YPartyKitProvider {
    const provider = new YPartyKitProvider(app.host, "notes", doc, {
      WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket,
      disableBc: true,
    });
    providers.push(provider);
    return provider;
  }

  it("converges two editors and shows 2 then 1 editors to an occupancy subscriber", async () => {
    const watcher = app.partySocket({ party: "occupancy", room: "lobby" });
    const counts = collect(watcher);
    const latest = () => JSON.parse((counts.at(-1) as string | undefined) ?? "{}") as Record<string, number>;
    await until(() => counts.length > 0, "the first occupancy snapshot");

    const docA = new Y.Doc();
    const docB = new Y.Doc();
    const a = editor(docA);
    const b = editor(docB);
    await until(() => a.synced && b.synced, "both editors to sync");
    docA.getText("body").insert(0, "shared ");
    docB.getText("body").insert(0, "notes");
    await until(
      () => docA.getText("body").toString() === docB.getText("body").toString() && docA.getText("body").length === 12,
      "the two documents to converge",
    );
    await until(() => latest().notes === 2, "2 editors on notes");

    b.destroy();
    b.awareness.destroy();
    await until(() => latest().notes === 1, "1 editor left on notes");
    assert.deepEqual(await (await app.fetch("/parties/occupancy/lobby")).json(), { notes: 1 });
  });
});
