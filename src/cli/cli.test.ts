/**
 * The `partyhouse` bin as users run it: a child process on real temp projects. Compiles dist/
 * first when it is older than the sources (the bin runs the compiled code).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { ensureBuilt, repoRoot, runToExit, spawnPartyhouse, type Finished } from "./test-support.js";
import { tempProjects } from "../config/test-support.js";

const project = tempProjects();

before(ensureBuilt);

function assertOneLineError(result: Finished, code: number, pattern: RegExp): void {
  assert.equal(result.code, code, `exit code (stderr: ${result.stderr})`);
  const lines = result.stderr.trimEnd().split("\n");
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0] as string, pattern);
  assert.equal(result.stdout, "");
}

describe("partyhouse as a command", () => {
  test("--help at the top level and on each command exits 0 with usage on stdout", async () => {
    const top = await runToExit(["--help"], { cwd: repoRoot });
    assert.equal(top.code, 0);
    assert.match(top.stdout, /partyhouse dev \[script\]/);
    for (const command of ["dev", "start"]) {
      const help = await runToExit([command, "--help"], { cwd: repoRoot });
      assert.equal(help.code, 0);
      assert.match(help.stdout, new RegExp(`Usage: partyhouse ${command} \\[script\\]`));
      assert.match(help.stdout, /--persist \[path\|false\]/);
    }
    const version = await runToExit(["--version"], { cwd: repoRoot });
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  });

  test("a bad flag or command exits 2 with one line", async () => {
    assertOneLineError(await runToExit(["dev", "--bogus"], { cwd: repoRoot }), 2, /^partyhouse: unknown option --bogus/);
    assertOneLineError(await runToExit(["deploy"], { cwd: repoRoot }), 2, /^partyhouse: unknown command "deploy"/);
    assertOneLineError(await runToExit(["start", "--port", "nope"], { cwd: repoRoot }), 2, /--port must be a whole number/);
  });

  test("a missing config, an unknown key and a missing main exit 1 with one line", async () => {
    const empty = await project({});
    assertOneLineError(await runToExit(["dev"], { cwd: empty.dir }), 1, /^partyhouse: no partykit\.json found in /);

    const unknown = await project({ "partykit.json": `{ "main": "s.ts", "foo": true }`, "s.ts": "export default {};" });
    assertOneLineError(await runToExit(["start"], { cwd: unknown.dir }), 1, /^partyhouse: partykit\.json: unknown key "foo"$/);

    const noMain = await project({ "partykit.json": `{ "name": "x" }` });
    assertOneLineError(await runToExit(["dev"], { cwd: noMain.dir }), 1, /^partyhouse: partykit\.json: "main" is missing/);

    const badJson = await project({ "partykit.json": `{ main: ` });
    assertOneLineError(await runToExit(["dev"], { cwd: badJson.dir }), 1, /^partyhouse: partykit\.json: invalid JSON/);
  });

  test("a syntax error in the server exits 1 naming the file and line", async () => {
    const broken = await project({ "partykit.json": `{ "main": "s.ts" }`, "s.ts": "export default {\n  x: ,\n};" });
    const result = await runToExit(["start", "--persist", "false", "--port", "0"], { cwd: broken.dir });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^partyhouse: build failed: s\.ts:2:\d+: /);
  });
});

async function until<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${String(last)})` : ""}`);
}

const serverSource = (version: string) => `
  import type * as Party from "partykit/server";
  import { label } from "./label";
  export default class Server implements Party.Server {
    constructor(readonly room: Party.Room) {}
    async onRequest(request: Party.Request) {
      const hits = ((await this.room.storage.get<number>("hits")) ?? 0) + 1;
      await this.room.storage.put("hits", hits);
      return new Response(label("${version}") + " room=" + this.room.id + " hits=" + hits + " greeting=" + String(this.room.env.GREETING));
    }
  }
`;

const serverProjectFiles = {
  "partykit.json": JSON.stringify({ name: "cli-fixture", main: "src/server.ts", vars: { GREETING: "hi" } }),
  "src/server.ts": serverSource("v1"),
  "src/label.ts": `export const label = (v: string) => "server " + v;`,
};

const serverAvailable =
  existsSync(join(repoRoot, "src/server/index.ts")) && existsSync(join(repoRoot, "src/storage/index.ts"));
const skip = serverAvailable ? false : "TODO: needs src/server/index.ts and src/storage/index.ts";

describe("partyhouse serving a project", { skip }, () => {
  test("start serves HTTP to a party, keeps storage across restarts, exits 0 on SIGTERM", async () => {
    const p = await project(serverProjectFiles);
    const first = await spawnPartyhouse(["start", "--port", "0", "--var", "GREETING=42"], { cwd: p.dir });
    try {
      const body = await (await fetch(`${first.url}/party/room-1`)).text();
      assert.equal(body, "server v1 room=room-1 hits=1 greeting=42");
      assert.match(first.output(), /\{"level":"info","time":.*"event":"ready"/, "start logs JSON lines");
      assert.match(first.output(), /ready on http:\/\/127\.0\.0\.1:\d+ \(listening on all interfaces/);
    } finally {
      assert.equal(await first.stop("SIGTERM"), 0, "a graceful stop exits 0");
    }
    const second = await spawnPartyhouse(["start", "--port", "0"], { cwd: p.dir });
    try {
      const body = await (await fetch(`${second.url}/party/room-1`)).text();
      assert.equal(body, "server v1 room=room-1 hits=2 greeting=hi", "storage persisted in .partyhouse/");
    } finally {
      assert.equal(await second.stop("SIGINT"), 0);
    }
  });

  test("a port in use exits 1 with one clear line", async () => {
    const p = await project(serverProjectFiles);
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const result = await runToExit(["start", "--host", "127.0.0.1", "--port", String(port), "--persist", "false"], { cwd: p.dir });
      assertOneLineError(result, 1, new RegExp(`^partyhouse: port ${port} .*already in use`));
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  test("a data folder used by another process exits 1 with one line", async () => {
    const p = await project(serverProjectFiles);
    const first = await spawnPartyhouse(["start", "--port", "0"], { cwd: p.dir });
    try {
      const result = await runToExit(["start", "--port", "0"], { cwd: p.dir });
      assertOneLineError(result, 1, /^partyhouse: .*in use/);
    } finally {
      await first.stop();
    }
  });

  test("dev rebuilds after a change and the new code answers; a broken build keeps the old code", async () => {
    const p = await project(serverProjectFiles);
    const dev = await spawnPartyhouse(["dev", "--port", "0", "--persist", "false"], { cwd: p.dir });
    try {
      const get = async () => (await fetch(`${dev.url}/party/r`)).text();
      assert.match(await get(), /^server v1 /);

      await p.write({ "src/label.ts": `export const label = (v: string) => "rebuilt " + v;` });
      await until(async () => ((await get()).startsWith("rebuilt v1") ? true : undefined), "the rebuilt code to answer");

      await p.write({ "src/server.ts": "export default class {\n  broken(\n}" });
      await until(async () => (/build failed/.test(dev.output()) ? true : undefined), "the build error to be logged");
      assert.match(await get(), /^rebuilt v1 /, "the previous build keeps serving");

      await p.write({ "src/server.ts": serverSource("v2") });
      await until(async () => ((await get()).startsWith("rebuilt v2") ? true : undefined), "the fixed code to answer");

      await p.write({ ".env": "GREETING=changed" });
      await until(async () => (/\.env changed; restart/.test(dev.output()) ? true : undefined), "a restart hint");
    } finally {
      assert.equal(await dev.stop(), 0);
    }
  });

  test("dev notes Cloudflare-only keys in one info line, not again in the child that replaces it", async () => {
    const config = { name: "cli-fixture", main: "src/server.ts", compatibilityDate: "2024-07-18", compatibilityFlags: ["nodejs_compat"] };
    const p = await project({ ...serverProjectFiles, "partykit.json": JSON.stringify(config) });
    const dev = await spawnPartyhouse(["dev", "--port", "0", "--persist", "false"], {
      cwd: p.dir,
      // A budget smaller than one bundle: the first rebuild is served by a fresh process.
      env: { PARTYHOUSE_DEV_BUNDLE_BUDGET_MB: "0.001" },
    });
    try {
      await p.write({ "src/label.ts": `export const label = (v: string) => "rebuilt " + v;` });
      await until(async () => (/reloaded in a fresh process/.test(dev.output()) ? true : undefined), "a replacement dev child");
      await until(async () => ((await (await fetch(`${dev.url}/party/r`)).text()).startsWith("rebuilt") ? true : undefined), "the rebuilt code");
      const notes = dev.output().split("\n").filter((line) => line.includes("Cloudflare-only"));
      assert.deepEqual(notes, [
        "ignoring Cloudflare-only config keys: compatibilityDate, compatibilityFlags (they only apply when deploying to PartyKit)",
      ]);
      assert.doesNotMatch(dev.output(), /\[warn\]/);
    } finally {
      assert.equal(await dev.stop(), 0);
    }
  });

  test("trustProxy and proxyGeoHeaders from partykit.json fill request.cf from the proxy's headers", async () => {
    const p = await project({
      "partykit.json": JSON.stringify({ main: "s.ts", trustProxy: true, proxyGeoHeaders: { city: "x-geo-city" } }),
      "s.ts": `export default class { onRequest(req: Request & { cf?: unknown }) { return Response.json(req.cf); } }`,
    });
    const start = await spawnPartyhouse(["start", "--port", "0", "--persist", "false"], { cwd: p.dir });
    try {
      const response = await fetch(`${start.url}/party/r`, { headers: { "cf-ipcountry": "JP", "x-geo-city": "Kyoto" } });
      const cf = (await response.json()) as Record<string, unknown>;
      assert.equal(cf.country, "JP");
      assert.equal(cf.city, "Kyoto");
    } finally {
      assert.equal(await start.stop(), 0);
    }
  });

  test("dev started with a broken server shows the error, waits for a fix, then serves", async () => {
    const p = await project({ ...serverProjectFiles, "src/label.ts": "export const label = ;" });
    // The fix is written only once the error was shown, however slow the machine is.
    let fixed = false;
    const dev = await spawnPartyhouse(["dev", "--port", "0", "--persist", "false"], {
      cwd: p.dir,
      onOutput(output) {
        if (fixed || !/build failed; waiting for a fix/.test(output)) return;
        fixed = true;
        void p.write({ "src/label.ts": serverProjectFiles["src/label.ts"] });
      },
    });
    try {
      assert.match(dev.output(), /build failed; waiting for a fix.*label\.ts:1:/);
      assert.match(await (await fetch(`${dev.url}/party/r`)).text(), /^server v1 /);
    } finally {
      assert.equal(await dev.stop(), 0);
    }
  });
});
