/**
 * Kill -9 at a random moment, restart, check: every write that was acknowledged (output sent
 * after `sync()` resolved) is there, every coalesced pair is all-or-nothing, and the database is
 * intact.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import path from "node:path";
import { createInterface } from "node:readline";
import Database from "better-sqlite3";
import { createStorageService } from "./index.js";
import { DATABASE_FILE_NAME } from "./sqlite-schema.js";
import { RecordingHooks, makeTempDir, removeDir } from "./test-support.js";

const FIXTURE = new URL("./fixtures/crash-writer.ts", import.meta.url).pathname;
const ROUNDS = 20;

interface RoundResult {
  acked: Array<{ room: string; key: string }>;
}

function runUntilKilled(dir: string, round: number): Promise<RoundResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", FIXTURE, dir, String(round)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const acked: RoundResult["acked"] = [];
    const guard = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`round ${round}: writer never became ready`));
    }, 30_000);
    createInterface({ input: child.stdout }).on("line", (line) => {
      if (line === "ready") {
        // Kill somewhere between 50 and 400 ms into the write stream.
        setTimeout(() => child.kill("SIGKILL"), 50 + Math.random() * 350);
        return;
      }
      const [, room, key] = line.split(" ");
      acked.push({ room: room!, key: key! });
    });
    child.once("error", reject);
    child.once("exit", (_code, signal) => {
      clearTimeout(guard);
      if (signal !== "SIGKILL") reject(new Error(`round ${round}: writer exited on its own (${signal ?? _code})`));
      // Let readline deliver the last lines the child wrote before it died.
      else setImmediate(() => resolve({ acked }));
    });
  });
}

test(`no acknowledged write is lost to SIGKILL (${ROUNDS} rounds)`, { timeout: 240_000 }, async () => {
  const dir = makeTempDir();
  try {
    let totalAcked = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const { acked } = await runUntilKilled(dir, round);
      totalAcked += acked.length;

      const db = new Database(path.join(dir, DATABASE_FILE_NAME));
      assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
      db.close();

      const service = await createStorageService({ kind: "sqlite", dir });
      for (let room = 0; room < 4; room++) {
        const storage = service.room({ party: "main", room: `room${room}` }, new RecordingHooks());
        const stored = await listAll(storage, `${round}:`);
        for (const { key } of acked.filter((entry) => entry.room === `room${room}`)) {
          assert.ok(stored.has(`${key}:a`) && stored.has(`${key}:b`), `round ${round}: acknowledged ${key} lost`);
        }
        for (const key of stored.keys()) {
          const pair = key.replace(/:[ab]$/, key.endsWith(":a") ? ":b" : ":a");
          assert.ok(stored.has(pair), `round ${round}: ${key} committed without ${pair}`);
        }
      }
      await service.close();
    }
    assert.ok(totalAcked > ROUNDS, `the writers made progress (${totalAcked} acknowledged writes)`);
  } finally {
    removeDir(dir);
  }
});

async function listAll(storage: { list(options: { prefix: string; startAfter?: string; limit: number }): Promise<Map<string, unknown>> }, prefix: string): Promise<Map<string, unknown>> {
  const all = new Map<string, unknown>();
  let startAfter: string | undefined;
  for (;;) {
    const page = await storage.list({ prefix, limit: 1000, ...(startAfter === undefined ? {} : { startAfter }) });
    for (const [key, value] of page) all.set(key, value);
    if (page.size < 1000) return all;
    startAfter = [...page.keys()].at(-1);
  }
}
