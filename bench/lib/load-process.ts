// The runner side of a load process: fork a bench/load/*.ts script, set it up, run windows, stop it.
import { fileURLToPath } from "node:url";
import type { ChildProcess } from "node:child_process";
import { forkChild, stopChild } from "./children.js";
import type { Command, CommandBody, Reply, Window, WindowResult } from "./load-protocol.js";

type Pending = { resolve: (value: unknown) => void; reject: (error: Error) => void };

export class LoadProcess {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  private constructor(
    readonly label: string,
    private readonly child: ChildProcess,
  ) {
    child.on("message", (reply: Reply) => {
      const waiter = this.pending.get(reply.id);
      if (!waiter) return;
      this.pending.delete(reply.id);
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(new Error(`${label}: ${reply.error}`));
    });
    child.once("exit", (code) => {
      for (const waiter of this.pending.values()) waiter.reject(new Error(`${label} exited (${code})`));
      this.pending.clear();
    });
  }

  /** Forks `bench/load/<script>.ts` and runs its setup with `params`. */
  static async start(label: string, script: string, params: unknown, setupTimeoutMs = 120_000): Promise<LoadProcess> {
    const path = fileURLToPath(new URL(`../load/${script}.ts`, import.meta.url));
    const child = forkChild(label, path, [], {
      execArgv: ["--import", "tsx", ...profileFlags()],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    const load = new LoadProcess(label, child);
    await load.call({ op: "setup", params }, setupTimeoutMs);
    return load;
  }

  window(window: Window): Promise<WindowResult> {
    const timeoutMs = (window.endUs - window.startUs) / 1000 + 30_000;
    return this.call({ op: "window", window }, timeoutMs) as Promise<WindowResult>;
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    try {
      await this.call({ op: "teardown" }, 10_000);
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
    } catch {
      // Stopping anyway.
    }
    await stopChild(this.child);
  }

  private call(command: CommandBody, timeoutMs: number): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.label}: ${command.op} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (value) => (clearTimeout(timer), resolve(value)),
        reject: (error) => (clearTimeout(timer), reject(error)),
      });
      const message: Command = { ...command, id };
      this.child.send(message);
    });
  }
}

/** BENCH_LOAD_PROF=<dir> writes a CPU profile per load process, to check the load is not the limit. */
function profileFlags(): string[] {
  const dir = process.env.BENCH_LOAD_PROF;
  return dir ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : [];
}
