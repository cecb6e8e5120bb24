// The two servers of the hibernation bench: bare `ws` (bench/servers/bare.ts, the same one the main
// bench uses) and partyhouse running this folder's hibernating party.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { repoRoot } from "../lib/paths.js";
import { planBare } from "../servers/targets.js";
import type { StartCommand } from "../servers/server-handle.js";

const partyFile = fileURLToPath(new URL("./party/server.ts", import.meta.url));
const partyConfig = fileURLToPath(new URL("./party/partykit.json", import.meta.url));

/** Both servers answer heap-after-GC on this path; partyhouse also reports `?room=`'s instances. */
export const MEMORY_PATH = "/__bench/memory";

export async function bareCommand(workDir: string): Promise<StartCommand> {
  const plan = await planBare(workDir);
  if (!plan.ok) throw new Error(`bare server: ${plan.note}`);
  return plan.start;
}

/** `partyhouse start` with in-memory storage and a short hibernation delay. */
export function partyhouseCommand(workDir: string, hibernateAfterMs: number): StartCommand {
  const bin = join(repoRoot, "bin/partyhouse.js");
  if (!existsSync(join(repoRoot, "dist/index.js"))) throw new Error("partyhouse is not built: run `npm run build`");
  return {
    name: "partyhouse",
    command: process.execPath,
    args: [
      "--expose-gc", ...profileFlags(), bin, "start", partyFile, "--config", partyConfig, "--host", "127.0.0.1",
      "--port", "{port}", "--persist", "false", "--hibernate-after", String(hibernateAfterMs),
    ],
    memoryPath: MEMORY_PATH,
    readyTimeoutMs: 30_000,
    workDir,
  };
}

/** BENCH_SERVER_PROF=<dir>: partyhouse runs under --cpu-prof, the profile named for this bench. */
function profileFlags(): string[] {
  const dir = process.env.BENCH_SERVER_PROF;
  if (!dir) return [];
  return ["--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-name=partyhouse-hibernating-${Date.now()}.cpuprofile`];
}
