/**
 * `partyhouse/yjs` as a user project gets it: partyhouse installed as a symlink (as
 * `npm install /path/to/partyhouse` does) and the project's own copy of yjs. The bundle must
 * resolve `partyhouse/yjs` through the package exports and hold exactly one Yjs: the project's.
 */
import assert from "node:assert/strict";
import { cp, mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { it } from "node:test";
import { pathToFileURL } from "node:url";
import { bundleProject } from "../../src/build/bundle.js";
import { repoRoot } from "../../src/cli/test-support.js";
import { loadConfig } from "../../src/config/load.js";
import { tempProjects } from "../../src/config/test-support.js";

const tempProject = tempProjects();

it("bundles a project importing partyhouse/yjs with one Yjs, the project's", async () => {
  const project = await tempProject({
    "partykit.json": `{ "main": "server.ts" }`,
    "server.ts": `
      import * as Y from "yjs";
      import { YServer } from "partyhouse/yjs";
      export default class Document extends YServer {
        static yjs = Y;
      }
    `,
  });
  await mkdir(join(project.dir, "node_modules"), { recursive: true });
  await symlink(repoRoot, join(project.dir, "node_modules/partyhouse"), "dir");
  // A copy, not a link: a second real path, as when the project installs yjs itself.
  await cp(join(repoRoot, "node_modules/yjs"), join(project.dir, "node_modules/yjs"), { recursive: true });
  await cp(join(repoRoot, "node_modules/lib0"), join(project.dir, "node_modules/lib0"), { recursive: true });

  const config = await loadConfig({ cwd: project.dir, mode: "dev", overrides: {} });
  const result = await bundleProject(config, { outdir: join(project.dir, ".partyhouse/build"), host: "127.0.0.1:1" });
  const yjsInputs = result.inputs.filter((input) => /node_modules\/yjs\/dist\//.test(input));
  assert.ok(yjsInputs.length > 0, "yjs is bundled");
  assert.ok(
    yjsInputs.every((input) => input.startsWith(join(project.dir, "node_modules/yjs"))),
    `only the project's yjs: ${yjsInputs.join(", ")}`,
  );
  assert.ok(result.inputs.some((input) => input.includes("/dist/yjs/y-server.js")), "partyhouse/yjs resolved to the built package");

  // Yjs reports a second copy with console.error when it is imported.
  const complaints: unknown[] = [];
  const error = console.error;
  console.error = (...args: unknown[]) => void complaints.push(args);
  try {
    const { main } = (await import(pathToFileURL(result.file).href)) as { main: { yjs: { Doc: unknown } } };
    assert.equal(typeof main.yjs.Doc, "function");
  } finally {
    console.error = error;
  }
  assert.deepEqual(complaints, [], "no 'Yjs was already imported' error");
});
