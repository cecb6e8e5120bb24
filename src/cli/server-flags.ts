/**
 * Memory settings for a serving process (issue 11), which only take effect when the process
 * starts, so `partyhouse start` re-executes itself with them (process.execve: the same process
 * id, nothing else left running):
 *
 * - `--max-semi-space-size=2` (MB). Under a sustained flood V8 grows the young generation to
 *   its default maximum (two 16 MB semi-spaces, ~30 MB resident) and keeps it; with 2 MB the
 *   flood benchmark's peak RSS fell from ~200 to ~142 MB, and each scavenge is shorter (it
 *   copies what survives, and less can pile up between two of them), so the loop delay p99
 *   fell too. Flags set with v8.setFlagsFromString after start-up do not resize the heap.
 * - `MALLOC_ARENA_MAX=2`: glibc gives each thread that allocates its own arena (libuv's pool,
 *   V8's helpers); two are plenty for one JavaScript thread and save a few MB.
 * - `MALLOC_MMAP_THRESHOLD_=32768`, `MALLOC_TRIM_THRESHOLD_=65536`: buffers of 32 KiB and more
 *   (a Yjs document's state sent to each editor that syncs, large messages) get pages of their
 *   own that go back to the system when freed. By default glibc raises its mmap threshold to the
 *   size of the largest block freed (up to 32 MiB), after which such buffers come from the arena
 *   and the memory they leave between live objects stays resident: in bench:yjs (1,000 idle
 *   editors on 200 documents of 53 KiB) partyhouse/yjs grew 47-56 KiB of RSS per editor
 *   connected without these settings and ~6.6 KiB with them (issue 23).
 *
 * A flag or variable the user set themselves (command line, NODE_OPTIONS, environment) wins.
 * `dev` is not re-executed: it is for development and runs its server in a child it replaces.
 */
import { parseCli } from "./args.js";

export const SEMI_SPACE_MB = 2;
/** glibc settings a serving process starts with unless the environment sets them (see above). */
export const MALLOC_SETTINGS: Readonly<Record<string, string>> = {
  MALLOC_ARENA_MAX: "2",
  MALLOC_MMAP_THRESHOLD_: "32768",
  MALLOC_TRIM_THRESHOLD_: "65536",
};
const SEMI_SPACE_FLAG = "--max-semi-space-size";

export interface Relaunch {
  readonly args: string[];
  readonly env: NodeJS.ProcessEnv;
}

/** The command line and environment to re-execute with, or undefined when nothing changes. */
export function serverRelaunch(argv: readonly string[], execArgv: readonly string[], env: NodeJS.ProcessEnv, script: string): Relaunch | undefined {
  if (!isStart(argv)) return undefined;
  const nodeOptions = (env.NODE_OPTIONS ?? "").split(/\s+/);
  if ([...execArgv, ...nodeOptions].some((flag) => flag.startsWith(SEMI_SPACE_FLAG))) return undefined;
  return {
    args: [process.execPath, `${SEMI_SPACE_FLAG}=${SEMI_SPACE_MB}`, ...execArgv, script, ...argv],
    env: { ...MALLOC_SETTINGS, ...env },
  };
}

/** Replaces this process with itself plus the settings above, when they are missing. */
export function relaunchWithServerFlags(argv: readonly string[], script: string): void {
  const relaunch = serverRelaunch(argv, process.execArgv, process.env, script);
  // Not on Windows (no execve): there the defaults stay.
  if (relaunch === undefined || typeof process.execve !== "function") return;
  process.execve(process.execPath, relaunch.args, relaunch.env);
}

function isStart(argv: readonly string[]): boolean {
  try {
    const command = parseCli(argv);
    return command.kind === "run" && command.mode === "start";
  } catch {
    // A usage error: main() reports it; no reason to re-execute first.
    return false;
  }
}
