// The load-process side of the IPC protocol: a load script hands its three steps to hostLoad() and
// this file runs them on the runner's command, adds the process's own CPU use to each window, and
// exits when the runner goes away or after a hard lifetime cap, so no load outlives its bench.
import type { Command, Reply, Window, WindowResult } from "./load-protocol.js";
import { sleepUntil } from "./clock.js";

export interface LoadScript<P> {
  /** Opens connections; resolves when the load is ready to run windows. */
  setup(params: P): Promise<void>;
  /** Runs load from window.startUs to window.endUs and reports what completed inside it. */
  window(window: Window): Promise<Omit<WindowResult, "cpuSeconds">>;
  teardown(): Promise<void>;
}

const MAX_LIFETIME_MS = 20 * 60 * 1000;

export function hostLoad<P>(script: LoadScript<P>): void {
  if (!process.send) throw new Error("a load script runs as a child of bench/run.ts");
  setTimeout(() => process.exit(3), MAX_LIFETIME_MS).unref();
  process.on("disconnect", () => process.exit(0));
  process.on("message", (message: Command) => {
    void handle(script as LoadScript<unknown>, message).then((reply) => {
      // After teardown the process leaves on its own (a clean exit also writes --cpu-prof output).
      process.send?.(reply, () => message.op === "teardown" && process.exit(0));
    });
  });
}

async function handle(script: LoadScript<unknown>, command: Command): Promise<Reply> {
  try {
    switch (command.op) {
      case "setup":
        await script.setup(command.params);
        return { id: command.id, ok: true, value: null };
      case "window":
        return { id: command.id, ok: true, value: await measured(script, command.window) };
      case "teardown":
        await script.teardown();
        return { id: command.id, ok: true, value: null };
    }
  } catch (error) {
    return { id: command.id, ok: false, error: error instanceof Error ? error.stack ?? error.message : String(error) };
  }
}

async function measured(script: LoadScript<unknown>, window: Window): Promise<WindowResult> {
  let cpuStart = process.cpuUsage();
  let cpuEnd = cpuStart;
  const startSample = sleepUntil(window.startUs).then(() => (cpuStart = process.cpuUsage()));
  const endSample = sleepUntil(window.endUs).then(() => (cpuEnd = process.cpuUsage(cpuStart)));
  const result = await script.window(window);
  await Promise.all([startSample, endSample]);
  return { ...result, cpuSeconds: (cpuEnd.user + cpuEnd.system) / 1e6 };
}
