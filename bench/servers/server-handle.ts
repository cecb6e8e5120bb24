// What the runner knows about a started server and how each kind of server is started.
import { openSync, closeSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { spawnChild, stopChild } from "../lib/children.js";
import { freePort } from "../lib/free-port.js";
import { processTree } from "../lib/proc-stats.js";
import { waitReady } from "../lib/wait-ready.js";
import { repoRoot } from "../lib/paths.js";

/**
 * "tuned": bare.ts with a hand-framed, corked broadcast (the fan-out floor);
 * "partyhouse-metrics": partyhouse with the admin listener on and scraped (bench/metrics).
 */
export type ServerName = "bare" | "tuned" | "partykit" | "partyhouse" | "partyhouse-metrics";

export interface RunningServer {
  name: ServerName;
  host: string;
  port: number;
  pid: number;
  /** GET path answering { gc, usage: process.memoryUsage() | null } after a GC. */
  memoryPath: string;
  /** The server's PID and its descendants, for CPU and RSS sampling. */
  tree(): number[];
  /** How the server ended if it is no longer running (a crash mid-run), else null. */
  exited(): string | null;
  stop(): Promise<void>;
}

export interface StartCommand {
  name: ServerName;
  command: string;
  args: string[];
  env?: Record<string, string>;
  memoryPath: string;
  readyTimeoutMs: number;
  /** Folder for the server's log. */
  workDir: string;
}

export const HOST = "127.0.0.1";

/** Starts the command on a free port (the `{port}` placeholder in args) and waits until it serves. */
export async function startServer(spec: StartCommand): Promise<RunningServer> {
  const port = await freePort();
  const logPath = join(spec.workDir, `${spec.name}.log`);
  const log = openSync(logPath, "a");
  let child: ChildProcess;
  try {
    child = spawnChild(spec.name, spec.command, spec.args.map((a) => a.replace("{port}", String(port))), {
      cwd: repoRoot,
      env: { ...process.env, ...spec.env },
      stdio: ["ignore", log, log],
    });
  } finally {
    closeSync(log);
  }
  try {
    await waitReady(child, `http://${HOST}:${port}/parties/main/bench-ready`, spec.readyTimeoutMs);
  } catch (error) {
    await stopChild(child);
    throw new Error(`${spec.name} did not start: ${(error as Error).message}\n${logTail(logPath)}`);
  }
  const pid = child.pid!;
  let exitedAs: string | null = null;
  child.once("exit", (code, signal) => (exitedAs = `exited with ${signal ?? code}\n${logTail(logPath)}`));
  return {
    name: spec.name,
    host: HOST,
    port,
    pid,
    memoryPath: spec.memoryPath,
    tree: () => processTree(pid),
    exited: () => exitedAs,
    stop: () => stopChild(child),
  };
}

/** The end of a server's log, for notes about why it did not start or stopped. */
function logTail(path: string): string {
  try {
    return readFileSync(path, "utf8").trimEnd().split("\n").slice(-10).join("\n");
  } catch {
    return "";
  }
}
