// The three servers under test and how to start each, or why one is skipped in this run.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { partyConfig, partyFile, repoRoot } from "../lib/paths.js";
import type { ServerName, StartCommand } from "./server-handle.js";

export const SERVER_LABELS: Record<ServerName, string> = {
  bare: "bare",
  tuned: "tuned",
  partykit: "partykit dev",
  partyhouse: "partyhouse",
  "partyhouse-metrics": "partyhouse, metrics on",
};

/** Path a party server answers memory on; the room is created once and stays for the run. */
const PARTY_MEMORY_PATH = "/parties/main/bench-memory/__bench/memory";

export type Plan = { ok: true; start: StartCommand } | { ok: false; note: string };

/**
 * The bare server, bundled first so it runs as plain JS like partyhouse's build (no tsx loader);
 * `tuned` starts it as the hand-tuned broadcast floor (`--tuned`).
 */
export async function planBare(workDir: string, tuned = false): Promise<Plan> {
  const name = tuned ? "tuned" : "bare";
  const outfile = join(workDir, `${name}.cjs`);
  await build({
    entryPoints: [join(repoRoot, "bench/servers/bare.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    // better-sqlite3 is native: loaded from the repo's node_modules (NODE_PATH below).
    external: ["bufferutil", "utf-8-validate", "better-sqlite3"],
    logLevel: "error",
  });
  return {
    ok: true,
    start: {
      name,
      command: process.execPath,
      args: ["--expose-gc", ...profileFlags(name), outfile, "--port", "{port}", ...(tuned ? ["--tuned"] : [])],
      env: { NODE_PATH: join(repoRoot, "node_modules") },
      memoryPath: "/__bench/memory",
      readyTimeoutMs: 10_000,
      workDir,
    },
  };
}

export function planPartyhouse(workDir: string): Plan {
  const bin = join(repoRoot, "bin/partyhouse.js");
  if (!existsSync(bin)) return { ok: false, note: "bin/partyhouse.js does not exist yet" };
  return {
    ok: true,
    start: {
      name: "partyhouse",
      command: process.execPath,
      args: [
        "--expose-gc", ...profileFlags("partyhouse"), bin, "start", partyFile, "--config", partyConfig,
        "--host", "127.0.0.1", "--port", "{port}", "--persist", join(workDir, "partyhouse-data"),
      ],
      memoryPath: PARTY_MEMORY_PATH,
      readyTimeoutMs: 30_000,
      workDir,
    },
  };
}

/** partykit dev from a scratch install (`npm install partykit@0.0.115` in `dir`). */
export function planPartykit(dir: string | undefined, workDir: string): Plan {
  if (!dir) return { ok: false, note: "no partykit install: pass --partykit-dir or set PARTYKIT_DIR" };
  const bin = join(dir, "node_modules/.bin/partykit");
  if (!existsSync(bin)) return { ok: false, note: `no partykit at ${bin}` };
  return {
    ok: true,
    start: {
      name: "partykit",
      command: bin,
      args: [
        "dev", partyFile, "--config", partyConfig, "--port", "{port}",
        "--persist", join(workDir, "partykit-state"), "--disable-request-cf-fetch", "--no-hotkeys",
      ],
      // No update check, no colour codes in the log.
      env: { NO_UPDATE_NOTIFIER: "1", NO_COLOR: "1", FORCE_COLOR: "0" },
      memoryPath: PARTY_MEMORY_PATH,
      readyTimeoutMs: 60_000,
      workDir,
    },
  };
}

/** BENCH_SERVER_PROF=<dir> runs the Node servers under --cpu-prof (written when they exit on SIGTERM). */
function profileFlags(name: string): string[] {
  const dir = process.env.BENCH_SERVER_PROF;
  return dir ? ["--cpu-prof", `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`] : [];
}
