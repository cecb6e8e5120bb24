import assert from "node:assert/strict";
import { test } from "node:test";
import type { LogLevel } from "../runtime/logger.js";
import { noteIgnoredKeys } from "./ignored-keys-note.js";

test("Cloudflare-only keys are noted in one info line, once per process", () => {
  const lines: Array<[LogLevel, string]> = [];
  const logger = { log: (level: LogLevel, event: string) => void lines.push([level, event]) };

  // A config without such keys says nothing, and does not use up the note.
  noteIgnoredKeys([], logger);
  assert.deepEqual(lines, []);

  noteIgnoredKeys(["compatibilityDate", "compatibilityFlags", "ai"], logger);
  // Loading the config again (another start in this process) does not repeat it.
  noteIgnoredKeys(["compatibilityDate", "compatibilityFlags", "ai"], logger);
  noteIgnoredKeys(["compatibilityDate"], logger);
  assert.deepEqual(lines, [
    ["info", "ignoring Cloudflare-only config keys: compatibilityDate, compatibilityFlags, ai (they only apply when deploying to PartyKit)"],
  ]);
});
