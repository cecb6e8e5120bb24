#!/usr/bin/env node
// Runs every `*.test.ts` under src/ and test/ with node's test runner (TypeScript through tsx).
// Arguments narrow the run: `npm test -- storage` runs the test files whose path contains "storage".
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
if (Number(process.versions.node.split(".")[0]) < 22) {
  console.error(`partyhouse's tests need Node.js 22, 24 or 26; this is ${process.version} (end-of-life)`);
  process.exit(1);
}
const filters = process.argv.slice(2);

function findTests(dir) {
  const found = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "fixtures") continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findTests(path));
    else if (entry.name.endsWith(".test.ts")) found.push(relative(root, path));
  }
  return found;
}

const files = ["src", "test"]
  .flatMap((dir) => {
    try {
      return findTests(join(root, dir));
    } catch {
      return [];
    }
  })
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();

if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}

// A file is one test to the runner: 300 s lets the ~110 s cluster-faults file finish on a loaded
// machine; every test inside still has its own, shorter deadline.
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", "--test-concurrency=2", "--test-timeout=300000", ...files],
  { cwd: root, stdio: "inherit" },
);
process.exit(result.status ?? 1);
