import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { loadConfig } from "../config/load.js";
import { tempProjects } from "../config/test-support.js";
import { bundleProject } from "./bundle.js";
import { BuildError } from "./errors.js";

const tempProject = tempProjects();

async function build(files: Record<string, string>, overrides = {}) {
  const project = await tempProject(files);
  const config = await loadConfig({ cwd: project.dir, mode: "dev", overrides });
  const outdir = join(project.dir, ".partyhouse/build");
  const result = await bundleProject(config, { outdir, host: "127.0.0.1:4321" });
  const exports = (await import(pathToFileURL(result.file).href)) as Record<string, unknown>;
  return { project, config, result, exports, outdir };
}

test("bundles TypeScript with the project's own npm dependency, without partykit installed", async () => {
  const { exports, result, project } = await build({
    "partykit.json": `{ "main": "src/server.ts" }`,
    "src/server.ts": `
      import type * as Party from "partykit/server";
      import * as Same from "partyhouse/server";
      import { shout } from "tiny-dep";
      export default class Server implements Party.Server {
        static kind: string = typeof Same;
        constructor(readonly room: Party.Room) {}
        static greet(name: string): string { return shout(name); }
      }
    `,
    "node_modules/tiny-dep/package.json": JSON.stringify({ name: "tiny-dep", version: "1.0.0", main: "index.js" }),
    // CommonJS that requires a node builtin: needs the createRequire banner in an ES module.
    "node_modules/tiny-dep/index.js": `
      const path = require("node:path");
      exports.shout = (s) => s.toUpperCase() + path.sep;
    `,
  });
  const main = exports.main as { greet(name: string): string; kind: string };
  assert.equal(main.greet("hi"), "HI/");
  assert.equal(main.kind, "object");
  assert.ok(result.inputs.includes(join(project.dir, "src/server.ts")));
  assert.ok(result.inputs.includes(join(project.dir, "node_modules/tiny-dep/index.js")));
  assert.ok(result.inputs.every((input) => input.startsWith("/")), "inputs are absolute paths");
  assert.ok(!result.inputs.some((input) => input.endsWith("partyhouse-entry.js")), "the synthesized entry is no input");
});

test("defines: PARTYKIT_HOST, PARTYKIT_API_BASE, process.env from .env, config and --define", async () => {
  const { exports } = await build(
    {
      "partykit.json": JSON.stringify({ main: "s.ts", define: { FROM_FILE: '"file"', OVERRIDDEN: '"file"' } }),
      ".env": "SECRET=from-dotenv\n",
      "s.ts": `
        declare const PARTYKIT_HOST: string, PARTYKIT_API_BASE: string;
        declare const FROM_FILE: string, OVERRIDDEN: string, FROM_FLAG: number;
        export default {
          host: PARTYKIT_HOST, api: PARTYKIT_API_BASE, secret: process.env.SECRET,
          file: FROM_FILE, overridden: OVERRIDDEN, flag: FROM_FLAG,
        };
      `,
    },
    { define: { OVERRIDDEN: '"flag"', FROM_FLAG: "42" } },
  );
  assert.deepEqual(exports.main, {
    host: "127.0.0.1:4321",
    api: "https://api.partykit.dev",
    secret: "from-dotenv",
    file: "file",
    overridden: "flag",
    flag: 42,
  });
  delete process.env.SECRET;
});

test("process.env: dotted, dynamic and globalThis reads all see the .env values; the host environment wins where it sets a key", async () => {
  process.env.PARTYHOUSE_TEST_HOST_ONLY = "host";
  process.env.PARTYHOUSE_TEST_SHADOWED = "host";
  try {
    const { exports } = await build({
      "partykit.json": JSON.stringify({ main: "s.ts" }),
      ".env": "OPENAI_API_KEY=sk-dotenv\nPARTYHOUSE_TEST_SHADOWED=dotenv\n",
      "s.ts": `
        const name = ["OPENAI", "API", "KEY"].join("_");
        export default {
          dotted: process.env.OPENAI_API_KEY,
          dynamic: process.env[name],
          listed: Object.keys(process.env).includes(name),
          viaGlobalThis: globalThis.process.env[name],
          hostOnly: process.env.PARTYHOUSE_TEST_HOST_ONLY,
          shadowed: process.env["PARTYHOUSE_TEST_SHADOWED"],
        };
      `,
    });
    assert.deepEqual(exports.main, {
      dotted: "sk-dotenv",
      dynamic: "sk-dotenv",
      listed: true,
      viaGlobalThis: "sk-dotenv",
      hostOnly: "host",
      shadowed: "host",
    });
  } finally {
    delete process.env.PARTYHOUSE_TEST_HOST_ONLY;
    delete process.env.PARTYHOUSE_TEST_SHADOWED;
    delete process.env.OPENAI_API_KEY;
  }
});

test("--with-env defines each .env key as a global constant, as PartyKit's flag does", async () => {
  const files = {
    "partykit.json": JSON.stringify({ main: "s.ts" }),
    ".env": 'GREETING=he said "hi"\n',
    "s.ts": `declare const GREETING: string; export default { greeting: typeof GREETING === "undefined" ? null : GREETING };`,
  };
  assert.deepEqual((await build(files, { withEnv: true })).exports.main, { greeting: 'he said "hi"' });
  assert.deepEqual((await build(files)).exports.main, { greeting: null });
});

test("every party is a named export of one bundle, sharing module state", async () => {
  const { exports, result } = await build({
    "partykit.json": JSON.stringify({ main: "main.ts", parties: { "chat-room": "chat.ts" } }),
    "shared.ts": "export const seen: string[] = [];",
    "main.ts": `import { seen } from "./shared"; seen.push("main"); export default { seen };`,
    "chat.ts": `import { seen } from "./shared"; seen.push("chat"); export default { seen };`,
  });
  assert.deepEqual(Object.keys(exports).sort(), ["chat-room", "main"]);
  const main = exports.main as { seen: string[] };
  const chat = exports["chat-room"] as { seen: string[] };
  assert.equal(main.seen, chat.seen);
  assert.deepEqual(main.seen, ["main", "chat"]);
  assert.match(await readFile(result.file, "utf8"), /sourceMappingURL=data:application\/json/);
});

test(".wasm imports as a WebAssembly.Module and .bin as an ArrayBuffer", async () => {
  const project = await tempProject({
    "partykit.json": `{ "main": "s.ts" }`,
    "s.ts": `
      import mod from "./empty.wasm";
      import mod2 from "./empty.wasm?module";
      import data from "./data.bin";
      export default { mod, same: mod2 instanceof WebAssembly.Module, data };
    `,
  });
  const { writeFile } = await import("node:fs/promises");
  await writeFile(join(project.dir, "empty.wasm"), Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  await writeFile(join(project.dir, "data.bin"), Buffer.from([1, 2, 3]));
  const config = await loadConfig({ cwd: project.dir, mode: "dev" });
  const result = await bundleProject(config, { outdir: join(project.dir, "out"), host: "h" });
  const main = ((await import(pathToFileURL(result.file).href)) as { main: { mod: unknown; same: boolean; data: unknown } }).main;
  assert.ok(main.mod instanceof WebAssembly.Module);
  assert.equal(main.same, true);
  assert.ok(main.data instanceof ArrayBuffer);
  assert.deepEqual([...new Uint8Array(main.data)], [1, 2, 3]);
});

test("each build gets a new file name; a broken file is a BuildError naming file and line", async () => {
  const project = await tempProject({ "partykit.json": `{ "main": "s.ts" }`, "s.ts": "export default {};" });
  const config = await loadConfig({ cwd: project.dir, mode: "dev" });
  const options = { outdir: join(project.dir, "out"), host: "h" };
  const first = await bundleProject(config, options);
  const second = await bundleProject(config, options);
  assert.notEqual(first.file, second.file);

  await project.write({ "s.ts": "export default {\n  broken: ,\n};" });
  await assert.rejects(bundleProject(config, options), (error: unknown) => {
    assert.ok(error instanceof BuildError);
    assert.match(error.message, /^s\.ts:2:\d+: /);
    return true;
  });
});

test("a missing default export and build.command failures are reported", async () => {
  const project = await tempProject({ "partykit.json": `{ "main": "s.ts" }`, "s.ts": "export const x = 1;" });
  const config = await loadConfig({ cwd: project.dir, mode: "dev" });
  const options = { outdir: join(project.dir, "out"), host: "h" };
  await assert.rejects(bundleProject(config, options), /No matching export .*default/);

  await project.write({
    "partykit.json": JSON.stringify({ main: "s.ts", build: { command: "echo 'export const made = 7;' > gen.ts" } }),
    "s.ts": `import { made } from "./gen"; export default { made };`,
  });
  const withCommand = await loadConfig({ cwd: project.dir, mode: "dev" });
  const result = await bundleProject(withCommand, options);
  assert.deepEqual(((await import(pathToFileURL(result.file).href)) as { main: unknown }).main, { made: 7 });

  await project.write({ "partykit.json": JSON.stringify({ main: "s.ts", build: { command: "exit 3" } }) });
  const failing = await loadConfig({ cwd: project.dir, mode: "dev" });
  await assert.rejects(bundleProject(failing, options), /build\.command failed \(exit code 3\): exit 3/);
});
