import assert from "node:assert/strict";
import { mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { loadConfig } from "../config/load.js";
import { tempProjects } from "../config/test-support.js";
import { bundleProject } from "./bundle.js";

const tempProject = tempProjects();

const fakeYjs = (copy: string) => ({
  package: JSON.stringify({ name: "yjs", version: "13.6.0", type: "module", exports: { ".": "./index.js" } }),
  index: `export const copy = ${JSON.stringify(copy)};`,
});

test("yjs resolves to the project's copy even from a symlinked library with its own node_modules", async () => {
  const project = await tempProject({
    "partykit.json": `{ "main": "server.ts" }`,
    "server.ts": `
      import { copy } from "yjs";
      import { copyFromLib } from "ylib";
      export default class Server { static copies = [copy, copyFromLib]; }
    `,
    "node_modules/yjs/package.json": fakeYjs("project").package,
    "node_modules/yjs/index.js": fakeYjs("project").index,
    // The library lives outside, as `npm install /path/to/lib` links it, with a yjs of its own.
    "outside/ylib/package.json": JSON.stringify({ name: "ylib", version: "1.0.0", type: "module", exports: { ".": "./index.js" } }),
    "outside/ylib/index.js": `export { copy as copyFromLib } from "yjs";`,
    "outside/ylib/node_modules/yjs/package.json": fakeYjs("nested").package,
    "outside/ylib/node_modules/yjs/index.js": fakeYjs("nested").index,
  });
  await mkdir(join(project.dir, "node_modules"), { recursive: true });
  await symlink(join(project.dir, "outside/ylib"), join(project.dir, "node_modules/ylib"), "dir");
  const config = await loadConfig({ cwd: project.dir, mode: "dev", overrides: {} });
  const result = await bundleProject(config, { outdir: join(project.dir, ".partyhouse/build"), host: "127.0.0.1:1" });
  const { main } = (await import(pathToFileURL(result.file).href)) as { main: { copies: string[] } };
  assert.deepEqual(main.copies, ["project", "project"], "one yjs: the project's");
  assert.ok(!result.inputs.some((input) => input.includes("outside/ylib/node_modules/yjs")));
});
