import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../src/cli/test-support.js";
export { freePort };

/**
 * Starting `partykit dev` and `partyhouse dev` on the same project. Each server runs in its own
 * process group (workerd and esbuild are children of partykit), and is stopped by signalling
 * that group through the PID we started, never by process name.
 */

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const partyhouseBin = join(repoRoot, "bin", "partyhouse.js");

/** The compatibility date the spec's observations were made with (spec section 0). */
export const PARTYKIT_COMPATIBILITY_DATE = "2024-07-18";

export interface RunningServer {
  readonly kind: "partykit" | "partyhouse";
  readonly origin: string;
  readonly port: number;
  output(): string;
  stop(): Promise<void>;
}

/** The partykit CLI inside a folder where `npm install partykit` ran, or undefined. */
export function findPartykitBin(dir: string | undefined): string | undefined {
  if (!dir) return undefined;
  const bin = join(dir, "node_modules", "partykit", "dist", "bin.mjs");
  return existsSync(bin) ? bin : undefined;
}

export function partyhouseBuilt(): boolean {
  return existsSync(join(repoRoot, "dist", "cli", "main.js"));
}


/** A `--var` both servers get: PartyKit keeps CLI values as strings. */
const CLI_VARS = ["--var", "DIFF_COUNT=5"];

export async function startPartykit(partykitBin: string, projectDir: string, port: number): Promise<RunningServer> {
  const args = [
    partykitBin,
    "dev",
    "--config",
    join(projectDir, "partykit.json"),
    "--port",
    String(port),
    "--persist",
    "false",
    // Otherwise miniflare fetches request.cf data from Cloudflare: keep all traffic local.
    "--disable-request-cf-fetch",
    "--no-hotkeys",
    "--compatibility-date",
    PARTYKIT_COMPATIBILITY_DATE,
    ...CLI_VARS,
  ];
  return startServer("partykit", args, projectDir, port, /Ready on http/, 90_000);
}

export async function startPartyhouse(projectDir: string, port: number): Promise<RunningServer> {
  const args = [partyhouseBin, "dev", "--config", join(projectDir, "partykit.json"), "--port", String(port), "--persist", "false", ...CLI_VARS];
  return startServer("partyhouse", args, projectDir, port, /partyhouse ready on http/, 30_000);
}

function startServer(
  kind: RunningServer["kind"],
  args: string[],
  cwd: string,
  port: number,
  ready: RegExp,
  timeoutMs: number,
): Promise<RunningServer> {
  const child = spawn(process.execPath, args, {
    cwd,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, FORCE_COLOR: "0", NO_COLOR: "1", CI: "1" },
  });
  let output = "";
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = () => stopGroup(child, exited);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop().then(() => reject(new Error(`${kind} did not get ready within ${timeoutMs} ms:\n${output}`)));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (ready.test(output)) {
        clearTimeout(timer);
        child.stdout!.off("data", onData);
        child.stderr!.off("data", onData);
        // Keep draining (and remembering) output so a full pipe never blocks the server.
        const keep = (more: Buffer) => (output += more.toString());
        child.stdout!.on("data", keep);
        child.stderr!.on("data", keep);
        resolve({ kind, origin: `http://127.0.0.1:${port}`, port, output: () => output, stop });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${kind} exited before it was ready:\n${output}`));
    });
  });
}

/** SIGTERM to the process group we created, SIGKILL if it lingers. */
async function stopGroup(child: ChildProcess, exited: Promise<void>): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      // The group is already gone.
    }
  };
  signal("SIGTERM");
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 5_000).unref()),
  ]);
  // workerd may outlive its parent: make sure nothing of the group is left.
  signal("SIGKILL");
  if (timedOut) await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2_000).unref())]);
}
