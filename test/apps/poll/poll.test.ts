import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { collect, startApp, until, type RunningApp } from "../support.js";

type Poll = { question: string; options: string[]; votes: number[] };

describe("poll app: votes over partysocket, results in room storage", () => {
  let app: RunningApp;
  before(async () => {
    app = await startApp("poll");
  });
  after(() => app.dispose());

  it("creates a poll over HTTP, counts votes from two clients, and keeps the results across a restart", async () => {
    const created = await app.fetch("/parties/main/lunch", {
      method: "POST",
      body: JSON.stringify({ question: "Lunch?", options: ["pizza", "salad"] }),
    });
    assert.equal(created.status, 201);
    assert.equal((await app.fetch("/parties/main/lunch", { method: "POST", body: "{}" })).status, 409);

    const ann = app.partySocket({ room: "lunch" });
    const ben = app.partySocket({ room: "lunch" });
    const annSaw = collect(ann);
    const benSaw = collect(ben);
    await until(() => annSaw.length > 0 && benSaw.length > 0, "both see the poll");
    ann.send(JSON.stringify({ vote: 0 }));
    ben.send(JSON.stringify({ vote: 0 }));
    ben.send(JSON.stringify({ vote: 1 }));
    ben.send(JSON.stringify({ vote: 7 }));
    const last = (seen: Array<string | ArrayBuffer>) => JSON.parse(seen.at(-1) as string) as Poll & { error?: string };
    await until(() => benSaw.some((m) => (JSON.parse(m as string) as { error?: string }).error !== undefined), "the refusal");
    await until(() => String(last(annSaw).votes) === "2,1", "ann to see 2:1");
    assert.deepEqual(last(annSaw), { question: "Lunch?", options: ["pizza", "salad"], votes: [2, 1] });

    await app.stop();
    await app.restart();
    assert.deepEqual(await (await app.fetch("/parties/main/lunch")).json(), { question: "Lunch?", options: ["pizza", "salad"], votes: [2, 1] });
    // partysocket reconnects by itself and gets the stored poll again.
    const before = annSaw.length;
    await until(() => annSaw.length > before, "ann's reconnect", 15_000);
    assert.deepEqual(last(annSaw).votes, [2, 1]);
  });
});
