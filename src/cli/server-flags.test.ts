import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { MALLOC_SETTINGS, SEMI_SPACE_MB, serverRelaunch } from "./server-flags.js";
import { ensureBuilt, spawnPartyhouse } from "./test-support.js";

test("start is re-executed with a small young generation and two malloc arenas; other commands are not", () => {
  const relaunch = serverRelaunch(["start", "--port", "0"], ["--enable-source-maps"], { HOME: "/h" }, "/bin/partyhouse.js");
  assert.deepEqual(relaunch?.args.slice(1), [`--max-semi-space-size=${SEMI_SPACE_MB}`, "--enable-source-maps", "/bin/partyhouse.js", "start", "--port", "0"]);
  assert.deepEqual(relaunch?.env, { HOME: "/h", MALLOC_ARENA_MAX: "2", MALLOC_MMAP_THRESHOLD_: "32768", MALLOC_TRIM_THRESHOLD_: "65536" });
  for (const argv of [["dev"], ["init"], ["--version"], ["start", "--help"], ["start", "--no-such-flag"]]) {
    assert.equal(serverRelaunch(argv, [], {}, "/bin/partyhouse.js"), undefined, argv.join(" "));
  }
});

test("settings the user chose win, and a re-executed process is not re-executed again", () => {
  assert.equal(serverRelaunch(["start"], ["--max-semi-space-size=16"], {}, "/b"), undefined);
  assert.equal(serverRelaunch(["start"], [], { NODE_OPTIONS: "--inspect --max-semi-space-size=8" }, "/b"), undefined);
  assert.equal(serverRelaunch(["start"], [], { MALLOC_ARENA_MAX: "8" }, "/b")?.env.MALLOC_ARENA_MAX, "8");
  assert.equal(serverRelaunch(["start"], [], { MALLOC_MMAP_THRESHOLD_: "131072" }, "/b")?.env.MALLOC_MMAP_THRESHOLD_, "131072");
});

test("partyhouse start serves from the same process id with the settings applied", { timeout: 60_000 }, async () => {
  ensureBuilt();
  const dir = await mkdtemp(join(tmpdir(), "partyhouse-flags-"));
  try {
    await writeFile(join(dir, "partykit.json"), JSON.stringify({ name: "flags", main: "server.ts" }));
    await writeFile(join(dir, "server.ts"), `export default class { onRequest() { return new Response("ok"); } }`);
    const server = await spawnPartyhouse(["start", "--host", "127.0.0.1", "--port", "0", "--persist", "false"], { cwd: dir });
    try {
      assert.equal(await (await fetch(`${server.url}/parties/main/r`)).text(), "ok");
      const pid = server.child.pid!;
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      assert.ok(cmdline.includes(`--max-semi-space-size=${SEMI_SPACE_MB}`), cmdline.join(" "));
      const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      for (const [name, value] of Object.entries(MALLOC_SETTINGS)) assert.ok(environ.includes(`${name}=${value}`), name);
      // Built once: esbuild's service process (~38 MB) is not kept for builds that never come.
      const children = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim();
      assert.equal(children, "", `start keeps child processes: ${children}`);
    } finally {
      assert.equal(await server.stop("SIGTERM"), 0);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
