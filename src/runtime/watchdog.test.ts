/**
 * The watchdog in a real `partyhouse start` (a child process): a handler that blocks the event
 * loop is named in the log, SIGTERM still ends the process while the loop is blocked, and an
 * event past --max-event-ms ends it with exit code 70.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { tempProjects } from "../config/test-support.js";
import { repoRoot, spawnPartyhouse, type SpawnedServer } from "../cli/test-support.js";

const project = tempProjects();

before(() => {
  // The bin runs dist/: compile when the watchdog's sources are newer than it.
  const stale = ["watchdog", "watchdog-worker", "running-event", "room-events"].some((name) => {
    try {
      return statSync(join(repoRoot, "dist/runtime", `${name}.js`)).mtimeMs < statSync(join(repoRoot, "src/runtime", `${name}.ts`)).mtimeMs;
    } catch {
      return true;
    }
  });
  if (stale) spawnSync(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], { cwd: repoRoot });
});

const files = {
  "partykit.json": JSON.stringify({ name: "spin", main: "server.ts" }),
  "server.ts": `
    export default class Spin {
      constructor(room) { this.room = room; }
      onRequest(req) {
        const url = new URL(req.url);
        if (url.pathname.endsWith("/forever")) { while (true) {} }
        const until = Date.now() + Number(url.searchParams.get("ms") ?? 0);
        while (Date.now() < until) {}
        return new Response("spun");
      }
    }
  `,
};

function exited(server: SpawnedServer): Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }> {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      resolve({ code: server.child.exitCode, signal: server.child.signalCode, at: Date.now() });
    } else server.child.once("exit", (code, signal) => resolve({ code, signal, at: Date.now() }));
  });
}

async function waitFor(check: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test("a long event is logged with its party, room and kind; the server carries on", async () => {
  const p = await project(files);
  const server = await spawnPartyhouse(["start", "--host", "127.0.0.1", "--port", "0", "--persist", "false"], { cwd: p.dir });
  try {
    const response = await fetch(`${server.url}/parties/main/slow-room?ms=1800`);
    assert.equal(await response.text(), "spun");
    await waitFor(() => /event loop running again/.test(server.output()), 2000, "the all-clear");
    const blocked = server.output().split("\n").find((line) => line.includes('"event loop blocked"'));
    assert.ok(blocked, server.output());
    const entry = JSON.parse(blocked) as Record<string, unknown>;
    assert.equal(entry.party, "main");
    assert.equal(entry.room, "slow-room");
    assert.equal(entry.kind, "onRequest");
    assert.equal(entry.level, "error");
  } finally {
    assert.equal(await server.stop("SIGTERM"), 0, "SIGTERM is graceful again once the loop turns");
  }
});

test("SIGTERM ends the process while a handler loops forever", async () => {
  const p = await project(files);
  const server = await spawnPartyhouse(["start", "--host", "127.0.0.1", "--port", "0", "--persist", "false"], { cwd: p.dir });
  const exit = exited(server);
  void fetch(`${server.url}/parties/main/r/forever`).catch(() => undefined);
  await waitFor(() => /event loop blocked/.test(server.output()), 5000, "the stall to be noticed");
  const sent = Date.now();
  server.child.kill("SIGTERM");
  const result = await Promise.race([exit, new Promise<null>((resolve) => setTimeout(() => resolve(null), 3000))]);
  if (result === null) server.child.kill("SIGKILL");
  assert.ok(result !== null, "the process ignored SIGTERM");
  assert.equal(result.signal, "SIGTERM");
  assert.ok(result.at - sent < 3000);
});

test("an event past --max-event-ms ends the process with exit code 70", async () => {
  const p = await project(files);
  const server = await spawnPartyhouse(["start", "--host", "127.0.0.1", "--port", "0", "--persist", "false", "--max-event-ms", "1500"], { cwd: p.dir });
  const exit = exited(server);
  const started = Date.now();
  void fetch(`${server.url}/parties/main/r/forever`).catch(() => undefined);
  const result = await Promise.race([exit, new Promise<null>((resolve) => setTimeout(() => resolve(null), 8000))]);
  if (result === null) server.child.kill("SIGKILL");
  assert.ok(result !== null, "still running");
  assert.equal(result.code, 70, server.output());
  assert.ok(result.at - started < 5000, `${result.at - started} ms`);
  assert.match(server.output(), /longer than max-event-ms/);
});

test("SIGTERM half a second into a 4 s stall ends the process before the stall does", async () => {
  const p = await project(files);
  const server = await spawnPartyhouse(["start", "--host", "127.0.0.1", "--port", "0", "--persist", "false"], { cwd: p.dir });
  const exit = exited(server);
  const started = Date.now();
  void fetch(`${server.url}/parties/main/r?ms=4000`).catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, 500));
  server.child.kill("SIGTERM");
  const result = await Promise.race([exit, new Promise<null>((resolve) => setTimeout(() => resolve(null), 6000))]);
  if (result === null) server.child.kill("SIGKILL");
  assert.ok(result !== null, "the process ignored SIGTERM");
  assert.equal(result.signal, "SIGTERM");
  assert.ok(result.at - started < 3000, `ended ${result.at - started} ms after the stall began`);
});

/**
 * Runs `partyhouse start --max-event-ms 1500`, stops it `stopAfterMs` into a `spinMs` spin for
 * `stopMs`, and checks that it is still running `graceMs` after the spin answered; then `more`.
 */
async function stoppedDuringSpin(spinMs: number, stopAfterMs: number, stopMs: number, graceMs: number, more: (server: SpawnedServer) => Promise<void>): Promise<void> {
  const p = await project(files);
  const server = await spawnPartyhouse(["start", "--host", "127.0.0.1", "--port", "0", "--persist", "false", "--max-event-ms", "1500"], { cwd: p.dir });
  const exit = exited(server);
  try {
    const spun = fetch(`${server.url}/parties/main/r?ms=${spinMs}`);
    await new Promise((resolve) => setTimeout(resolve, stopAfterMs));
    server.child.kill("SIGSTOP");
    await new Promise((resolve) => setTimeout(resolve, stopMs));
    server.child.kill("SIGCONT");
    assert.equal(await (await spun).text(), "spun");
    const result = await Promise.race([exit, new Promise<null>((resolve) => setTimeout(() => resolve(null), graceMs))]);
    assert.equal(result, null, `ended after the stop: ${server.output()}`);
    assert.match(server.output(), /process was stopped/);
    await more(server);
  } finally {
    server.child.kill("SIGCONT");
    assert.equal(await server.stop("SIGTERM"), 0);
  }
}

test("a process stopped (SIGSTOP) for longer than --max-event-ms is not ended when it resumes", async () => {
  // Stopped while a handler holds the loop: no heartbeat since, so only the watchdog's own
  // clock can tell the stop from a stall.
  await stoppedDuringSpin(800, 300, 2_500, 2_000, async (server) => {
    assert.equal(await (await fetch(`${server.url}/parties/main/r`)).text(), "spun");
  });
});

test("a stop shorter than a second, while a handler holds the loop, is not counted as blocked time either", async () => {
  // 600 ms of a 1.4 s spin, then stopped for 0.9 s: counted as blocked, that would make 1.5 s
  // and end the process; the handler itself ran 600 ms (its wall-clock spin ends at once
  // after the stop).
  await stoppedDuringSpin(1_400, 600, 900, 1_500, async (server) => {
    assert.doesNotMatch(server.output(), /event loop blocked/);
  });
});
