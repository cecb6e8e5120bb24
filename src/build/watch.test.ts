import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import { join } from "node:path";
import { test } from "node:test";
import { pathToFileURL } from "node:url";
import { loadConfig } from "../config/load.js";
import { tempProjects } from "../config/test-support.js";
import { bundleProject } from "./bundle.js";
import type { BundleResult } from "./server-builder.js";
import { watchProject, type WatchEvent } from "./watch.js";

const tempProject = tempProjects();

/** Collects watch events and hands them out one at a time, failing after a bounded wait. */
function eventQueue() {
  const events: WatchEvent[] = [];
  let wake: (() => void) | undefined;
  return {
    push(event: WatchEvent) {
      events.push(event);
      wake?.();
    },
    async next(timeoutMs = 5000): Promise<WatchEvent> {
      const deadline = Date.now() + timeoutMs;
      while (events.length === 0) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error("no build event within the time limit");
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, left);
        });
      }
      return events.shift() as WatchEvent;
    },
    get size() {
      return events.length;
    },
  };
}

async function mainOf(event: WatchEvent): Promise<unknown> {
  assert.ok(!(event instanceof Error), `expected a build, got ${String(event)}`);
  return ((await import(pathToFileURL(event.file).href)) as { main: unknown }).main;
}

const quiet = () => new Promise((resolve) => setTimeout(resolve, 400));

test("rebuilds when an input changes, reports errors, recovers, and ignores same-content writes", async () => {
  const project = await tempProject({
    "partykit.json": `{ "main": "src/server.ts" }`,
    "src/server.ts": `import { value } from "./value"; export default { value };`,
    "src/value.ts": `export const value = 1;`,
  });
  const config = await loadConfig({ cwd: project.dir, mode: "dev" });
  const queue = eventQueue();
  const watcher = await watchProject(config, { outdir: join(project.dir, "out"), host: "h", debounceMs: 20 }, queue.push);
  try {
    assert.deepEqual(await mainOf(await queue.next()), { value: 1 }, "the first build is reported");

    await project.write({ "src/value.ts": `export const value = 2;` });
    assert.deepEqual(await mainOf(await queue.next()), { value: 2 });

    await project.write({ "src/value.ts": `export const value = ;` });
    const failure = await queue.next();
    assert.ok(failure instanceof Error);
    assert.match(failure.message, /value\.ts:1:/);

    // The fix imports a file that did not exist when the build failed.
    await project.write({ "src/extra.ts": `export const extra = 3;` });
    await project.write({ "src/value.ts": `export { extra as value } from "./extra";` });
    // The two writes may be seen apart (and a file half-written): builds of those in-between
    // states may come first; the last one has both.
    let event = await queue.next();
    while (event instanceof Error || !isDeepStrictEqual(await mainOf(event), { value: 3 })) event = await queue.next();

    await project.write({ "src/extra.ts": `export const extra = 4;` });
    event = await queue.next();
    while (event instanceof Error || !isDeepStrictEqual(await mainOf(event), { value: 4 })) event = await queue.next();

    // Let in-between builds of the writes above settle before counting.
    await quiet();
    while (queue.size > 0) await queue.next();
    await project.write({ "src/extra.ts": `export const extra = 4;` });
    await quiet();
    assert.equal(queue.size, 0, "rewriting identical content does not rebuild");
  } finally {
    await watcher.close();
  }
});

test("starts from an initial build; build.watch folders and build.command rerun on change", async () => {
  const project = await tempProject({
    "partykit.json": JSON.stringify({
      main: "server.ts",
      build: { command: "node gen.mjs", watch: "schema" },
    }),
    "gen.mjs": `
      import { readFileSync, writeFileSync } from "node:fs";
      const text = readFileSync("schema/name.txt", "utf8").trim();
      writeFileSync("generated.ts", "export const name = " + JSON.stringify(text) + ";\\n");
    `,
    "schema/name.txt": "first",
    "server.ts": `import { name } from "./generated"; export default { name };`,
  });
  const config = await loadConfig({ cwd: project.dir, mode: "dev" });
  const options = { outdir: join(project.dir, "out"), host: "h", debounceMs: 20 };
  const initial: BundleResult = await bundleProject(config, options);
  const queue = eventQueue();
  const watcher = await watchProject(config, { ...options, initial }, queue.push);
  try {
    await quiet();
    // The command rewrote generated.ts with the same content while building: at most one rebuild.
    while (queue.size > 0) assert.deepEqual(await mainOf(await queue.next()), { name: "first" });

    await project.write({ "schema/name.txt": "second" });
    assert.deepEqual(await mainOf(await queue.next()), { name: "second" });
    await quiet();
    while (queue.size > 0) assert.deepEqual(await mainOf(await queue.next()), { name: "second" });
  } finally {
    await watcher.close();
  }
});

test("a first build that fails is watched until a fix, even in a file of another folder", async () => {
  const project = await tempProject({
    "partykit.json": `{ "main": "src/server.ts" }`,
    "src/server.ts": `import { value } from "../lib/value"; export default { value };`,
    "lib/value.ts": `export const value = ;`,
  });
  const config = await loadConfig({ cwd: project.dir, mode: "dev" });
  const queue = eventQueue();
  const watcher = await watchProject(config, { outdir: join(project.dir, "out"), host: "h", debounceMs: 20 }, queue.push);
  try {
    const failure = await queue.next();
    assert.ok(failure instanceof Error);
    await project.write({ "lib/value.ts": `export const value = "fixed";` });
    assert.deepEqual(await mainOf(await queue.next()), { value: "fixed" });
  } finally {
    await watcher.close();
  }
});
