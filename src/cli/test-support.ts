/**
 * Helpers for tests that run the `partyhouse` bin as a child process (not a test file itself):
 * start it and wait for its ready line, run it to its exit, find a free port, read a client's next message.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import type PartySocket from "partysocket";
import ts from "typescript";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const bin = fileURLToPath(new URL("../../bin/partyhouse.js", import.meta.url));

export interface SpawnedServer {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Everything the process wrote to stderr so far. */
  readonly output: () => string;
  /** SIGTERM (graceful) or SIGKILL, then wait for exit. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** A port that was free a moment ago, for servers that must come back on the same port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Runs `partyhouse <args>` and resolves once it prints its ready line. */
export function spawnPartyhouse(
  args: string[],
  options: {
    cwd?: string;
    timeoutMs?: number;
    /** Added to the inherited environment. */
    env?: Record<string, string>;
    /** Sees all output so far, on each new chunk. */
    onOutput?: (output: string) => void;
  } = {},
): Promise<SpawnedServer> {
  const child = spawn(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? repoRoot,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...options.env },
  });
  let output = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`partyhouse did not get ready in time:\n${output}`));
    }, options.timeoutMs ?? 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      options.onOutput?.(output);
      const match = /ready on (http:\/\/[^\s]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        const url = match[1]!;
        resolve({
          url,
          port: Number(new URL(url).port),
          child,
          output: () => output,
          async stop(signal = "SIGTERM") {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            // A process that ignores the signal must not outlive the test.
            const killer = setTimeout(() => child.kill("SIGKILL"), 15_000);
            const code = await exited;
            clearTimeout(killer);
            return code;
          },
        });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`partyhouse exited with ${code} before it was ready:\n${output}`));
    });
  });
}

export interface Finished {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `partyhouse <args>` to its exit; killed (and failing) after `timeoutMs`. */
export function runToExit(args: string[], options: { cwd?: string; timeoutMs?: number } = {}): Promise<Finished> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: options.cwd ?? repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`partyhouse ${args.join(" ")} did not exit within ${timeoutMs} ms:\n${stdout}${stderr}`));
    }, timeoutMs);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * The bin runs dist/: compile it when a source file of the build is newer than its output.
 * `npm test` compiles first, so in a full run this never writes (tests running at the same
 * time read dist/); it is for running one test file after an edit.
 */
export function ensureBuilt(): void {
  if (staleSources().length === 0) return;
  // Type errors elsewhere must not stop the emit; whether the CLI works is what is tested.
  spawnSync(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"], {
    cwd: repoRoot,
    stdio: "ignore",
    timeout: 120_000,
  });
}

/** Sources of the build (tsconfig.build.json's files: no tests, test support or fixtures) newer than dist/. */
function staleSources(): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(join(repoRoot, "tsconfig.build.json"), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
    },
  });
  return (config?.fileNames ?? [])
    .filter((path) => !path.endsWith(".d.ts"))
    .filter((path) => {
      const built = join(repoRoot, "dist", relative(join(repoRoot, "src"), path)).replace(/\.ts$/, ".js");
      return !existsSync(built) || statSync(built).mtimeMs < statSync(path).mtimeMs;
    });
}

/** The next message a partysocket client receives, as text; rejects after `timeoutMs`. */
export function nextMessage(socket: PartySocket, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no message in time")), timeoutMs);
    socket.addEventListener(
      "message",
      (event) => {
        clearTimeout(timer);
        resolve(String((event as MessageEvent).data));
      },
      { once: true },
    );
  });
}
