import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, describe, it } from "node:test";
import WebSocket from "ws";
import { spawnPartyhouse, type SpawnedServer } from "../../src/cli/test-support.js";

function nextMessage(ws: WebSocket): Promise<string> {
  return new Promise((resolve) => ws.once("message", (data) => resolve(String(data))));
}

describe("partyhouse start --hibernate-after", () => {
  let server: SpawnedServer | undefined;
  after(() => server?.stop("SIGKILL"));

  it("hibernates an idle room after the given time and wakes it on the next message", async () => {
    server = await spawnPartyhouse([
      "start", "--config", "test/fixtures/hibernate/partykit.json", "--port", "0", "--persist", "false", "--hibernate-after", "100",
    ]);
    const ws = new WebSocket(`${server.url.replace("http", "ws")}/parties/main/r`);
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    let reply = nextMessage(ws);
    ws.send("a");
    assert.equal(await reply, "1");
    reply = nextMessage(ws);
    ws.send("b");
    assert.equal(await reply, "1", "no hibernation between quick messages");
    await sleep(400);
    reply = nextMessage(ws);
    ws.send("c");
    assert.equal(await reply, "2", "a new instance after 100 ms idle, same socket");
    ws.close();
  });
});
