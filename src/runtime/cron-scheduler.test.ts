import assert from "node:assert/strict";
import { describe, it, mock } from "node:test";
import { CronScheduler } from "./cron-scheduler.js";
import { silentLogger } from "./logger.js";
import { startTestServer } from "../testing/index.js";
import type * as Party from "../types/party.js";

describe("cron scheduler", () => {
  it("runs each cron at its scheduled minutes and keeps going after a failing run", () => {
    mock.timers.enable({ apis: ["setTimeout", "Date"], now: Date.parse("2026-01-01T00:00:30Z") });
    try {
      const runs: string[] = [];
      const scheduler = new CronScheduler(
        { every: "* * * * *", quarter: "*/15 * * * *" },
        async (name, expression, time) => {
          runs.push(`${name} ${expression} ${new Date(time).toISOString()}`);
          if (name === "every") throw new Error("a failing run does not stop the schedule");
        },
        silentLogger,
      );
      scheduler.start();
      mock.timers.tick(30_000); // 00:01:00
      // One minute per tick: a timer armed during a tick is not run by that same tick.
      for (let minute = 2; minute <= 15; minute++) mock.timers.tick(60_000);
      scheduler.stop();
      for (let minute = 0; minute < 60; minute++) mock.timers.tick(60_000);
      assert.equal(runs.filter((r) => r.startsWith("every")).length, 15);
      assert.deepEqual(
        runs.filter((r) => r.startsWith("quarter")),
        ["quarter */15 * * * * 2026-01-01T00:15:00.000Z"],
      );
      assert.equal(runs[0], "every * * * * * 2026-01-01T00:01:00.000Z");
    } finally {
      mock.timers.reset();
    }
  });

  it("refuses to start with an invalid expression", () => {
    assert.throws(() => new CronScheduler({ bad: "61 * * * *" }, async () => {}, silentLogger), /cron "61 \* \* \* \*": Invalid value for minute: 61/);
  });

  it("lets dev run a cron by hand at /__scheduled__?cron=<name>, as partykit dev does", async () => {
    const seen: string[] = [];
    class Main implements Party.Server {
      static onCron(cron: Party.Cron, lobby: Party.CronLobby) {
        seen.push(`${cron.name} ${cron.cron} ${typeof lobby.parties.main}`);
      }
    }
    const server = await startTestServer({ parties: Main, memory: true, dev: true, crons: { nightly: "0 3 * * *" } });
    try {
      const res = await server.fetch("/__scheduled__?cron=nightly");
      assert.equal(await res.text(), "ran cron nightly: 0 3 * * *");
      assert.deepEqual(seen, ["nightly 0 3 * * * object"]);
    } finally {
      await server.close();
    }
  });
});
