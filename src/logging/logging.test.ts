import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { prettyLogger } from "../runtime/logger.js";
import { atLeast } from "./levels.js";
import { pinoLogger } from "./pino-logger.js";

describe("loggers", () => {
  it("pino writes one JSON object per line with level, time, event and the fields", () => {
    const lines: string[] = [];
    const logger = pinoLogger((line) => lines.push(line), "info");
    logger.log("debug", "hidden");
    logger.log("error", "onMessage failed", { party: "main", room: "r1", handler: "onMessage", stack: "Error: x\n  at y" });
    assert.equal(lines.length, 1);
    assert.ok(lines[0]!.endsWith("\n"));
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(line.level, "error");
    assert.equal(line.event, "onMessage failed");
    assert.equal(line.party, "main");
    assert.equal(line.room, "r1");
    assert.equal(line.stack, "Error: x\n  at y");
    assert.ok(!Number.isNaN(Date.parse(String(line.time))), "ISO time");
  });

  it("--log-level filters the readable dev lines too", () => {
    const lines: string[] = [];
    const logger = atLeast("warn", prettyLogger((line) => lines.push(line)));
    logger.log("info", "ready");
    logger.log("warn", "careful", { room: "r" });
    assert.deepEqual(lines, ["[warn] careful room=r\n"]);
  });
});
