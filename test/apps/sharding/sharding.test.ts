import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { collect, startApp, until, type RunningApp } from "../support.js";

describe("sharding app: a router party forwards upgrades to shard rooms (stub.fetch from onBeforeConnect)", () => {
  let app: RunningApp;
  before(async () => {
    app = await startApp("sharding");
  });
  after(() => app.dispose());

  it("connects partysocket clients of the router to their lobby's shard, where they talk", async () => {
    const { shardOf } = (await (await app.fetch("/parties/main/any")).json()) as { shardOf: Record<string, string> };
    const first = app.partySocket({ party: "main", room: "lobby-a" });
    const second = app.partySocket({ party: "main", room: "lobby-a" });
    const firstGot = collect(first);
    const secondGot = collect(second);
    await until(() => firstGot.length > 0 && secondGot.length > 0, "both welcomes");
    const welcome = JSON.parse(firstGot[0] as string) as { type: string; shard: string };
    assert.deepEqual({ type: welcome.type, shard: welcome.shard }, { type: "welcome", shard: shardOf["lobby-a"] });

    first.send(JSON.stringify({ type: "join", lobby: "lobby-a" }));
    first.send(JSON.stringify({ type: "say", text: "hello shard" }));
    await until(() => secondGot.length > 1, "the broadcast");
    assert.deepEqual(JSON.parse(secondGot[1] as string), { type: "said", shard: shardOf["lobby-a"], from: "lobby-a", text: "hello shard" });
    assert.equal(firstGot.length, 1, "the sender is left out of its own broadcast");
  });

  it("sends other lobbies to their own shard", async () => {
    const { shardOf } = (await (await app.fetch("/parties/main/any")).json()) as { shardOf: Record<string, string> };
    const lobby = Object.keys(shardOf).find((name) => shardOf[name] !== shardOf["lobby-a"]);
    assert.ok(lobby, "the hash spreads the three lobbies over more than one shard");
    const socket = app.partySocket({ party: "main", room: lobby });
    const got = collect(socket);
    await until(() => got.length > 0, "a welcome");
    assert.equal((JSON.parse(got[0] as string) as { shard: string }).shard, shardOf[lobby]);
  });
});
