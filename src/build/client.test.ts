import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig } from "../config/load.js";
import { tempProjects } from "../config/test-support.js";
import { startClientBuild } from "./client.js";
import { BuildError } from "./errors.js";

const tempProject = tempProjects();

const client = (word: string) => `
  declare const PARTYKIT_HOST: string, EXTRA: string;
  console.log("${word}", PARTYKIT_HOST, EXTRA, typeof process === "undefined" ? "" : process.env.SECRET);
`;

const plainClient = (word: string) => `declare const PARTYKIT_HOST: string; console.log("${word}", PARTYKIT_HOST);`;

test("serve.build bundles the client into <serve.path>/dist with PARTYKIT_HOST and its own defines", async () => {
  const project = await tempProject({
    "partykit.json": JSON.stringify({
      main: "s.ts",
      serve: { path: "public", build: { entry: "client.ts", define: { EXTRA: '"extra"' } } },
    }),
    ".env": "SECRET=do-not-ship",
    "s.ts": "export default {};",
    "client.ts": client("first"),
  });
  const config = await loadConfig({ cwd: project.dir, mode: "start" });
  const build = config.serve?.build;
  assert.ok(build);
  const handle = await startClientBuild(config, build, { host: "example.test:1999", watch: false });
  await handle.close();
  const output = await readFile(join(project.dir, "public/dist/client.js"), "utf8");
  assert.match(output, /example\.test:1999/);
  assert.match(output, /extra/);
  assert.doesNotMatch(output, /do-not-ship/, ".env values stay on the server");
});

test("in watch mode a change rebuilds; without watching, a broken first build throws a BuildError", async () => {
  const project = await tempProject({
    "partykit.json": JSON.stringify({ main: "s.ts", serve: { path: "public", build: "client.ts" } }),
    "s.ts": "export default {};",
    "client.ts": plainClient("first"),
  });
  const config = await loadConfig({ cwd: project.dir, mode: "dev" });
  const build = config.serve?.build;
  assert.ok(build);
  let rebuilt = 0;
  const handle = await startClientBuild(config, build, { host: "h:1", watch: true, onBuild: () => rebuilt++ });
  try {
    const file = join(project.dir, "public/dist/client.js");
    assert.match(await readFile(file, "utf8"), /first/);
    await project.write({ "client.ts": plainClient("second") });
    const deadline = Date.now() + 10_000;
    while (!/second/.test(await readFile(file, "utf8"))) {
      assert.ok(Date.now() < deadline, "the client bundle was not rebuilt in time");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(rebuilt >= 1);
  } finally {
    await handle.close();
  }

  await project.write({ "client.ts": "const = ;" });
  await assert.rejects(startClientBuild(config, build, { host: "h:1", watch: false }), BuildError);
});

test("in watch mode a broken first build is reported, and the fix builds without a restart", async () => {
  const project = await tempProject({
    "partykit.json": JSON.stringify({ main: "s.ts", serve: { path: "public", build: "client.ts" } }),
    "s.ts": "export default {};",
    "client.ts": "const = ;",
  });
  const config = await loadConfig({ cwd: project.dir, mode: "dev" });
  const build = config.serve?.build;
  assert.ok(build);
  const errors: unknown[] = [];
  let built = 0;
  const handle = await startClientBuild(config, build, { host: "h:1", watch: true, onError: (e) => errors.push(e), onBuild: () => built++ });
  try {
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof BuildError, "the error says where the build failed");
    await project.write({ "client.ts": plainClient("fixed") });
    const file = join(project.dir, "public/dist/client.js");
    const deadline = Date.now() + 10_000;
    while (!/fixed/.test(await readFile(file, "utf8").catch(() => ""))) {
      assert.ok(Date.now() < deadline, "the fixed client was not built in time");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.ok(built >= 1);
  } finally {
    await handle.close();
  }
});
