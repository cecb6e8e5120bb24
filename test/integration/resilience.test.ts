import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, describe, it } from "node:test";
import WebSocket from "ws";
import { spawnPartyhouse, type SpawnedServer } from "../../src/cli/test-support.js";

describe("a user's uncaught errors never end the process", () => {
  let server: SpawnedServer | undefined;
  after(() => server?.stop("SIGKILL"));

  it("logs an exception thrown in a timer and an unhandled rejection, and keeps serving", async () => {
    server = await spawnPartyhouse(["start", "--config", "test/fixtures/echo/partykit.json", "--port", "0", "--persist", "false"]);
    const ws = new WebSocket(`${server.url.replace("http", "ws")}/parties/main/r`);
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    ws.send("throw-in-timer");
    ws.send("reject-unhandled");
    await sleep(100);
    assert.equal(server.child.exitCode, null, "the process is still running");
    const res = await fetch(`${server.url}/parties/main/other`);
    assert.equal(res.status, 200);
    assert.match(server.output(), /thrown in a timer/);
    assert.match(server.output(), /nobody awaits this/);
    ws.close();
  });
});

describe("bundled user code", () => {
  let server: SpawnedServer | undefined;
  after(() => server?.stop("SIGKILL"));

  it("constructs partyhouse's LazyResponse when it writes `new Response`", async () => {
    server = await spawnPartyhouse(["start", "--config", "test/fixtures/echo/partykit.json", "--port", "0", "--persist", "false"]);
    const res = await fetch(`${server.url}/parties/main/r/response-class`);
    assert.equal(await res.text(), "LazyResponse");
    assert.equal(res.headers.get("content-type"), "text/plain;charset=UTF-8");
  });
});
