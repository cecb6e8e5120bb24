import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { collect, firstClose, startApp, until, type RunningApp } from "../support.js";

describe("ws-reject app: onBeforeConnect rejects with an accepted-and-closed WebSocketPair end", () => {
  let app: RunningApp;
  before(async () => {
    app = await startApp("ws-reject");
  });
  after(() => app.dispose());

  it("a client without a token gets the handshake, then close 4001 with the reason", async () => {
    const socket = app.partySocket({ room: "vault", maxRetries: 0 });
    assert.deepEqual(await firstClose(socket), { code: 4001, reason: "missing token" });
  });

  it("a wrong token is told which room refused it", async () => {
    const socket = app.partySocket({ room: "vault", query: { token: "guess" }, maxRetries: 0 });
    assert.deepEqual(await firstClose(socket), { code: 4003, reason: "bad token for vault" });
  });

  it("the right token connects to the room", async () => {
    const socket = app.partySocket({ room: "vault", query: { token: "letmein" } });
    const got = collect(socket);
    await until(() => got.length > 0, "the welcome");
    assert.equal(got[0], "welcome to vault");
  });
});
