import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { after, before, describe, it } from "node:test";
import { collect, startApp, until, type RunningApp } from "../support.js";
import { GO_AWAY, SLOW_DOWN } from "./rate-limit.js";

describe("reactions app: a rate limiter that keeps its counters on the connection object", () => {
  let app: RunningApp;
  before(async () => {
    app = await startApp("reactions", ["--hibernate-after", "300"]);
  });
  after(() => app.dispose());

  it("answers a burst with slow-down replies, then closes a client that keeps going; a paced client is never limited", async () => {
    const paced = app.partySocket({ room: "talk", id: "paced" });
    const flooder = app.partySocket({ room: "talk", id: "flooder", maxRetries: 0 });
    const pacedSaw = collect(paced);
    const flooderSaw = collect(flooder);
    await until(() => pacedSaw.length > 0 && flooderSaw.length > 0, "both connected");

    // Five reactions at once: the first counts, the next four are over the limit.
    for (let i = 0; i < 5; i++) flooder.send("heart");
    await until(() => flooderSaw.filter((m) => m === SLOW_DOWN).length === 4, "four slow-down replies");

    // The room hibernates; the limiter's state comes back from the attachment.
    await sleep(600);
    for (let i = 0; i < 12; i++) flooder.send("heart");
    await until(() => flooderSaw.includes(GO_AWAY), "the go-away after ten violations in a row");

    for (let i = 0; i < 3; i++) {
      paced.send("clap");
      await sleep(150);
    }
    await until(() => pacedSaw.some((m) => typeof m === "string" && m.includes('"clap":3')), "all three paced claps counted");
    assert.ok(!pacedSaw.includes(SLOW_DOWN), "the paced client was never limited");
  });
});
