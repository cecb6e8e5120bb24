/**
 * `partyhouse dev` over a long session: 200 rebuilds. Node never frees an imported bundle, so
 * the dev child is replaced once it has loaded its budget; memory and the build folder must
 * stay bounded, and the latest code must answer after every rebuild. (Runs the compiled bin:
 * `npm test` builds dist/ first.)
 */
import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { tempProjects } from "../config/test-support.js";
import { spawnPartyhouse } from "./test-support.js";

const project = tempProjects();

/** ~60 KB of code per bundle (twice that with the inline source map), so reloads add up fast. */
const serverSource = (version: number) => `
const padding = ${JSON.stringify("p".repeat(60_000))};
export default class {
  onRequest() {
    const { rss } = process.memoryUsage();
    return Response.json({ version: ${version}, pid: process.pid, rss, padding: padding.length });
  }
}
`;

interface Answer {
  version: number;
  pid: number;
  rss: number;
}

test("dev survives 200 rebuilds with bounded memory and build folder, always serving the newest code", { timeout: 300_000 }, async () => {
  const p = await project({
    "partykit.json": JSON.stringify({ main: "src/server.ts" }),
    "src/server.ts": serverSource(0),
  });
  const dev = await spawnPartyhouse(["dev", "--port", "0", "--persist", "false"], {
    cwd: p.dir,
    // A 2 MiB budget: a fresh process about every 15 reloads, instead of every few hundred.
    env: { PARTYHOUSE_DEV_BUNDLE_BUDGET_MB: "2" },
  });
  const ask = async (): Promise<Answer | undefined> => {
    try {
      return (await (await fetch(`${dev.url}/party/r`)).json()) as Answer;
    } catch {
      return undefined; // between two processes: the port is briefly closed
    }
  };
  const pids = new Set<number>();
  const rssAt = new Map<number, number>();
  let largestBuildFolder = 0;
  try {
    for (let version = 1; version <= 200; version++) {
      await p.write({ "src/server.ts": serverSource(version) });
      const deadline = Date.now() + 30_000;
      let answer: Answer | undefined;
      while ((answer = await ask())?.version !== version) {
        assert.ok(Date.now() < deadline, `version ${version} never answered (last: ${JSON.stringify(answer)})\n${dev.output().slice(-2000)}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      pids.add(answer!.pid);
      rssAt.set(version, answer!.rss);
      const files = (await readdir(join(p.dir, ".partyhouse", "build"))).filter((name) => name.endsWith(".mjs"));
      largestBuildFolder = Math.max(largestBuildFolder, files.length);
    }
  } finally {
    assert.equal(await dev.stop(), 0, "SIGTERM to dev ends it (and its child) with 0");
  }

  assert.ok(pids.size >= 5, `the dev child was replaced (${pids.size} processes served)`);
  // Without replacement the child would grow ~0.5 MB per reload (100 MB over this run).
  const mib = (bytes: number) => bytes / 1024 / 1024;
  const early = Math.max(...[...rssAt].filter(([v]) => v <= 50).map(([, rss]) => rss));
  const late = Math.max(...[...rssAt].filter(([v]) => v > 150).map(([, rss]) => rss));
  assert.ok(mib(late) < mib(early) + 40, `RSS after 150 reloads (${mib(late).toFixed(0)} MiB) stays near the first 50's (${mib(early).toFixed(0)} MiB)`);
  // Each process keeps its current and previous bundle; a replaced one's are removed at start.
  assert.ok(largestBuildFolder <= 4, `at most 4 bundles on disk at once (saw ${largestBuildFolder})`);
  assert.doesNotMatch(dev.output(), /error/i);
});
