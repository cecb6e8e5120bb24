import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RuntimeCounters } from "../metrics/counters.js";
import type { Logger, LogLevel } from "./logger.js";
import { HandlerErrorReporter } from "./error-reporter.js";

function recorder(): { logger: Logger; lines: Array<{ level: LogLevel; event: string; fields: Record<string, unknown> }> } {
  const lines: Array<{ level: LogLevel; event: string; fields: Record<string, unknown> }> = [];
  return { lines, logger: { log: (level, event, fields = {}) => lines.push({ level, event, fields }) } };
}

describe("handler error reporter", () => {
  it("logs party, room, handler and stack once per window; repeats are counted, then summarized", () => {
    const { logger, lines } = recorder();
    const counters = new RuntimeCounters();
    let now = 1_000;
    const reporter = new HandlerErrorReporter(logger, counters, 60_000, () => now);
    const room = { party: "main", room: "r1" };
    for (let i = 0; i < 1000; i++) reporter.report(room, "onMessage failed", new Error("boom"));
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.level, "error");
    assert.equal(lines[0]!.event, "onMessage failed");
    assert.equal(lines[0]!.fields.party, "main");
    assert.equal(lines[0]!.fields.room, "r1");
    assert.equal(lines[0]!.fields.handler, "onMessage");
    assert.match(String(lines[0]!.fields.stack), /Error: boom\n\s+at /);
    assert.equal(counters.party("main").handlerErrors.get("onMessage"), 1000, "every error counts for metrics");

    // Another message, another room or another handler is its own line.
    reporter.report(room, "onMessage failed", new Error("other"));
    reporter.report({ party: "main", room: "r2" }, "onMessage failed", new Error("boom"));
    reporter.report(room, "onClose failed", new Error("boom"));
    assert.equal(lines.length, 4);

    now += 60_000;
    reporter.report(room, "onMessage failed", new Error("boom"));
    assert.equal(lines.length, 5);
    assert.equal(lines[4]!.fields.repeatsSuppressed, 999);
  });
});
