/**
 * `partyhouse dev` runs its server in a child process, and starts a fresh one when the old one
 * holds too much dead code.
 *
 * Node cannot unload an ES module: every reload imports a new bundle, and the old ones stay in
 * memory for the life of the process (about 4 bytes of RSS per bundle byte, measured). The
 * child counts the bundle bytes it has loaded; past a budget it closes (sockets 1012, as a
 * reload does; storage flushed) and exits with RESTART_EXIT_CODE, and this supervisor starts
 * the next child on the same port at once. Memory stays bounded after any number of rebuilds;
 * clients see what they see on any reload.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { CliContext } from "./context.js";

/** Set in the child's environment: it serves, and talks to its supervisor over IPC. */
export const DEV_CHILD_ENV = "PARTYHOUSE_DEV_CHILD";
/** The child's exit code for "start me again" (EX_TEMPFAIL). */
export const RESTART_EXIT_CODE = 75;
/** Bundle bytes a child may load before it is replaced; `PARTYHOUSE_DEV_BUNDLE_BUDGET_MB` overrides. */
export const DEFAULT_BUNDLE_BUDGET_BYTES = 32 * 1024 * 1024;

/** What a child tells its supervisor. */
export interface DevChildMessage {
  readonly type: "ready";
  readonly port: number;
}

const BIN = fileURLToPath(new URL("../../bin/partyhouse.js", import.meta.url));

export function isDevChild(): boolean {
  return devChildRestarts() !== undefined;
}

/** In a dev child: how many children ran before it (0 for the first); else undefined. */
export function devChildRestarts(): number | undefined {
  const value = process.env[DEV_CHILD_ENV];
  return value === undefined ? undefined : Number(value);
}

export function bundleBudgetBytes(): number {
  const configured = Number(process.env.PARTYHOUSE_DEV_BUNDLE_BUDGET_MB);
  return Number.isFinite(configured) && configured > 0 ? configured * 1024 * 1024 : DEFAULT_BUNDLE_BUDGET_BYTES;
}

/**
 * Runs dev children until one ends for good; resolves with its exit code. A signal to the
 * supervisor is passed on once (the child is in its own process group, so a terminal's Ctrl-C
 * reaches it only through here).
 */
export function superviseDev(argv: readonly string[], cli: CliContext): Promise<number> {
  return new Promise<number>((resolve) => {
    let child: ChildProcess | undefined;
    let port: number | undefined;
    let restarts = 0;
    let stopping = false;

    const forward = (signal: NodeJS.Signals) => {
      if (stopping) {
        // A second signal: don't wait any longer.
        child?.kill("SIGKILL");
        return;
      }
      stopping = true;
      child?.kill(signal);
    };
    process.on("SIGINT", forward);
    process.on("SIGTERM", forward);

    const startChild = () => {
      const args = [...process.execArgv, BIN, ...argv];
      // The next child takes over the port the first one got (also for `--port 0`).
      if (port !== undefined) args.push("--port", String(port));
      child = spawn(process.execPath, args, {
        cwd: cli.cwd,
        stdio: ["inherit", "inherit", "inherit", "ipc"],
        env: { ...process.env, [DEV_CHILD_ENV]: String(restarts) },
        detached: true,
      });
      child.on("message", (message: DevChildMessage) => {
        if (message?.type === "ready") port = message.port;
      });
      child.once("exit", (code, signal) => {
        if (code === RESTART_EXIT_CODE && !stopping) {
          restarts++;
          startChild();
          return;
        }
        process.off("SIGINT", forward);
        process.off("SIGTERM", forward);
        resolve(code ?? (signal ? 1 : 0));
      });
    };
    startChild();
  });
}
