// Every process the bench starts is registered here by PID and ended here by PID, on normal exit,
// on error and on SIGINT/SIGTERM. Each child leads its own process group (detached), so signalling
// -pid also reaches what it started (partykit dev runs workerd under node).
import { spawn, fork, type ChildProcess, type SpawnOptions, type ForkOptions } from "node:child_process";

const live = new Map<number, { child: ChildProcess; label: string }>();

export function spawnChild(label: string, command: string, args: string[], options: SpawnOptions): ChildProcess {
  return track(label, spawn(command, args, { ...options, detached: true }));
}

export function forkChild(label: string, modulePath: string, args: string[], options: ForkOptions): ChildProcess {
  return track(label, fork(modulePath, args, { ...options, detached: true }));
}

function track(label: string, child: ChildProcess): ChildProcess {
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${label}`);
  live.set(pid, { child, label });
  child.once("exit", () => live.delete(pid));
  return child;
}

/** SIGTERM the child's group, then SIGKILL it if it is still there after `graceMs`. */
export async function stopChild(child: ChildProcess, graceMs = 2000): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || !live.has(pid)) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  signalGroup(pid, "SIGTERM");
  const timer = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), graceMs).unref());
  if ((await Promise.race([exited, timer])) === "timeout") {
    signalGroup(pid, "SIGKILL");
    await exited;
  }
  // The leader may exit before its own children; make sure the rest of the group goes too.
  signalGroup(pid, "SIGKILL");
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live.values()].map(({ child }) => stopChild(child)));
}

/** Synchronous last resort for process exit paths, where awaiting is not possible. */
export function killAllNow(): void {
  for (const pid of live.keys()) signalGroup(pid, "SIGKILL");
  live.clear();
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/** Ends every child when the runner is interrupted or exits, so no load outlives the bench. */
export function installExitHandlers(): void {
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\nbench: ${signal}, stopping ${live.size} child process(es)\n`);
    killAllNow();
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  process.once("exit", killAllNow);
}
