/**
 * `partyhouse init`: the new project's own test passes, it type-checks, and `partyhouse dev`
 * serves its page and its party. Instead of `npm install` (network), node_modules links to
 * this checkout's partyhouse, tsx and typescript.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import WebSocket from "ws";
import { ensureBuilt, repoRoot, runToExit, spawnPartyhouse } from "./test-support.js";
import { tempProjects } from "../config/test-support.js";

const project = tempProjects();

before(ensureBuilt);

function linkDependencies(dir: string): void {
  mkdirSync(join(dir, "node_modules/@types"), { recursive: true });
  symlinkSync(repoRoot, join(dir, "node_modules/partyhouse"), "dir");
  for (const name of ["tsx", "typescript", "@types/node"]) symlinkSync(join(repoRoot, "node_modules", name), join(dir, "node_modules", name), "dir");
}

describe("partyhouse init", () => {
  test("creates a project whose test passes, which type-checks and runs with partyhouse dev", async () => {
    const { dir: parent } = await project({});
    const created = await runToExit(["init", "my-app"], { cwd: parent });
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /Created a partyhouse project in my-app:/);
    assert.match(created.stdout, /npx partyhouse dev/);
    const dir = join(parent, "my-app");
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as { name: string; devDependencies: Record<string, string> };
    assert.equal(pkg.name, "my-app");
    assert.match(pkg.devDependencies.partyhouse!, /^file:\//);
    linkDependencies(dir);

    // Without NODE_TEST_CONTEXT the child runner reports on stdout, not to this runner.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const tested = spawnSync(process.execPath, ["--import", "tsx", "--test", "src/server.test.ts"], { cwd: dir, env, encoding: "utf8", timeout: 60_000 });
    assert.equal(tested.status, 0, tested.stdout + tested.stderr);
    // Node 22 prints TAP ("# pass 1"), Node 24 the spec reporter ("ℹ pass 1").
    assert.match(tested.stdout, /pass 1\n/);

    const typed = spawnSync(process.execPath, [join(dir, "node_modules/typescript/bin/tsc"), "--noEmit", "-p", "."], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    assert.equal(typed.status, 0, typed.stdout + typed.stderr);

    const server = await spawnPartyhouse(["dev", "--port", "0"], { cwd: dir });
    try {
      const page = await (await fetch(`${server.url}/`)).text();
      assert.match(page, /<title>partyhouse chat<\/title>/);
      const ws = new WebSocket(`${server.url.replace("http", "ws")}/parties/main/lobby?_pk=me`);
      const messages: string[] = [];
      ws.on("message", (data) => messages.push(String(data)));
      await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
      ws.send("hi");
      const deadline = Date.now() + 5000;
      while (messages.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.deepEqual(JSON.parse(messages[1]!), { type: "message", from: "me", text: "hi", count: 1 });
      ws.close();
    } finally {
      await server.stop();
    }
  });

  test("never overwrites: a folder with a partykit.json is refused with one line", async () => {
    const { dir } = await project({ "partykit.json": "{}" });
    const result = await runToExit(["init"], { cwd: dir });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /^partyhouse: .*partykit\.json already exists; init writes into a new or empty folder\n$/);
    assert.equal(readFileSync(join(dir, "partykit.json"), "utf8"), "{}");
  });
});
