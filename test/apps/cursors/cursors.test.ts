import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { decode, encode } from "@msgpack/msgpack";
import type PartySocket from "partysocket";
import { startApp, until, type RunningApp } from "../support.js";

type Message = { type: string; id?: string; cursor?: unknown; cursors?: Record<string, unknown> };

function decoded(socket: PartySocket): Message[] {
  const received: Message[] = [];
  socket.binaryType = "arraybuffer";
  socket.addEventListener("message", (event) => {
    const data = (event as MessageEvent).data as ArrayBuffer | string;
    assert.ok(data instanceof ArrayBuffer, "the server sends binary frames");
    received.push(decode(new Uint8Array(data)) as Message);
  });
  return received;
}

describe("cursors app: a hibernating party speaking msgpack, its cursors surviving hibernation", () => {
  let app: RunningApp;
  before(async () => {
    app = await startApp("cursors", ["--hibernate-after", "200"]);
  });
  after(() => app.dispose());

  const instances = async () => ((await (await app.fetch("/parties/main/canvas")).json()) as { instances: number }).instances;

  it("relays msgpack cursor moves and syncs a late joiner from connection state after the room hibernated", async () => {
    const alice = app.partySocket({ room: "canvas", id: "alice" });
    const bob = app.partySocket({ room: "canvas", id: "bob" });
    const aliceGot = decoded(alice);
    const bobGot = decoded(bob);
    await until(() => aliceGot.length > 0 && bobGot.length > 0, "both syncs");

    alice.send(encode({ x: 10, y: 20, pointer: "mouse" }));
    bob.send(encode({ x: 3, y: 4, pointer: "touch" }));
    await until(() => bobGot.some((m) => m.type === "update") && aliceGot.some((m) => m.type === "update"), "the updates");
    assert.deepEqual(bobGot.find((m) => m.type === "update"), { type: "update", id: "alice", cursor: { x: 10, y: 20, pointer: "mouse" } });

    const before = await instances();
    await sleep(800); // idle past --hibernate-after: the instance is dropped, the sockets stay
    const carol = app.partySocket({ room: "canvas", id: "carol" });
    const carolGot = decoded(carol);
    await until(() => carolGot.length > 0, "carol's sync");
    assert.ok((await instances()) > before, "the room woke up with a new instance");
    assert.deepEqual(carolGot[0], {
      type: "sync",
      cursors: { alice: { x: 10, y: 20, pointer: "mouse" }, bob: { x: 3, y: 4, pointer: "touch" } },
    });

    bob.close();
    await until(() => carolGot.some((m) => m.type === "remove"), "bob's removal");
    assert.deepEqual(carolGot.find((m) => m.type === "remove"), { type: "remove", id: "bob" });
  });
});
