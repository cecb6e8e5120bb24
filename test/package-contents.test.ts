/**
 * What `npm pack` puts in the package, read from the dist/ that `npm test` builds first: the
 * library, the CLI and the inspector's page, and no test code (tests, fixtures, test helpers).
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { it } from "node:test";
import { repoRoot } from "../src/cli/test-support.js";

function packedFiles(): string[] {
  const args = ["pack", "--dry-run", "--json", "--ignore-scripts"];
  // Under `npm test`, the npm that runs it; else the one on PATH.
  const npm = process.env.npm_execpath;
  const out = npm ? execFileSync(process.execPath, [npm, ...args], { cwd: repoRoot }) : execFileSync("npm", args, { cwd: repoRoot });
  const [pack] = JSON.parse(out.toString()) as Array<{ files: Array<{ path: string }> }>;
  return pack!.files.map((file) => file.path);
}

it("npm pack ships the library and the CLI, and no test code", () => {
  const files = packedFiles();
  for (const needed of ["bin/partyhouse.js", "dist/index.js", "dist/cli/main.js", "dist/testing/index.js", "dist/yjs/index.js", "static/inspector/index.html"]) {
    assert.ok(files.includes(needed), `${needed} is packed`);
  }
  const testCode = files.filter((path) => /\.test\.|test-support|\/fixtures\/|test-cluster/.test(path));
  assert.deepEqual(testCode, []);
  // The database-free placement of the routing tests and the bench is test code too.
  assert.deepEqual(files.filter((path) => /static-(cluster|directory)/.test(path)), []);
});
