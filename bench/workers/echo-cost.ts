// Where the time of bench:workers' echo scenario goes. Three servers side by side: `--workers 1`,
// `--workers 2`, and a `--workers 2` with every echo room on one worker (the other one stopped
// while the rooms are placed), so the hand-off's own cost shows apart from the split over two
// processes. The bench's echo load (one socket per room, each keeping one message in flight) runs
// on each in turn, in rotating order; per window: echoes/s and, per echo, for every process (the
// load generator, the supervisor, each worker): CPU µs (all threads, /proc/<pid>/stat), the main
// thread's CPU µs and its µs runnable but waiting for a CPU (/proc/<pid>/schedstat), and its
// context switches. The figures printed are medians over the rounds. See bench/workers/README.md.
//
//   npm run build && node --import tsx bench/workers/echo-cost.ts [--rounds 4] [--window-ms 3000]
//     [--rooms 16] [--rooms2 <rooms for the --workers 2 servers>] [--client ws|raw] [--in-flight 1]
//   ECHO_COST_NODE_ARGS="--perf-basic-prof" ECHO_COST_PIDS=1 ...   for `perf record` by pid
import { cpSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import WebSocket from "ws";
import { installExitHandlers, spawnChild, stopAll } from "../lib/children.js";
import { freePort } from "../lib/free-port.js";
import { processTree } from "../lib/proc-stats.js";
import { repoRoot } from "../lib/paths.js";
import { median } from "../lib/stats.js";
import { waitReady } from "../lib/wait-ready.js";
import { RawWebSocket } from "../lib/ws-raw.js";
import { textOf } from "../lib/http-text.js";

const HOST = "127.0.0.1";
const bin = join(repoRoot, "bin/partyhouse.js");

function flag(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : process.argv[at + 1]!;
}

interface Server {
  readonly name: string;
  readonly port: number;
  readonly child: ChildProcess;
}

async function startServer(name: string, workers: number): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), `partyhouse-echo-cost-${name}-`));
  cpSync(join(repoRoot, "bench/workers/project"), dir, { recursive: true });
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const out = openSync(join(dir, "server.log"), "a");
  // ECHO_COST_NODE_ARGS="--perf-basic-prof" for `perf record` (the workers inherit the supervisor's execArgv).
  const nodeArgs = (process.env.ECHO_COST_NODE_ARGS ?? "").split(" ").filter((arg) => arg !== "");
  const child = spawnChild(name, process.execPath, [...nodeArgs, bin, "start", "--host", HOST, "--port", String(port), "--workers", String(workers)], {
    cwd: dir,
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  await waitReady(child, `http://${HOST}:${port}/parties/main/ready`, 60_000);
  return { name, port, child };
}


/** The server's processes (supervisor and workers), without helpers such as esbuild's service. */
function partyhouseProcesses(server: Server): number[] {
  return processTree(server.child.pid!).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("partyhouse");
    } catch {
      return false;
    }
  });
}

interface Counters {
  readonly ticks: number;
  /** Main thread, from /proc/<pid>/schedstat: ns on a CPU, and ns runnable but waiting for one. */
  readonly runNs: number;
  readonly waitNs: number;
  readonly voluntary: number;
  readonly involuntary: number;
}

/** utime+stime of all threads (ticks of 10 ms), context switches of the main thread. */
function countersOf(pid: number): Counters {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const [runNs, waitNs] = readFileSync(`/proc/${pid}/schedstat`, "utf8").split(" ").map(Number);
  return {
    ticks: Number(fields[11]) + Number(fields[12]),
    runNs: runNs!,
    waitNs: waitNs!,
    voluntary: Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)![1]),
    involuntary: Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)![1]),
  };
}

interface Echoer {
  send(): void;
  onMessage(listener: () => void): void;
  close(): void;
}

async function openEchoer(kind: string, port: number, room: string): Promise<Echoer> {
  if (kind === "raw") {
    const ws = await RawWebSocket.open(HOST, port, `/parties/main/${room}`);
    return { send: () => ws.sendText("ping"), onMessage: (listener) => (ws.onMessage = listener), close: () => ws.socket.destroy() };
  }
  const ws = await new Promise<WebSocket>((resolve, reject) => {
    const socket = new WebSocket(`ws://${HOST}:${port}/parties/main/${room}`);
    socket.once("open", () => resolve(socket));
    socket.once("error", reject);
  });
  return { send: () => ws.send("ping"), onMessage: (listener) => ws.on("message", listener), close: () => ws.terminate() };
}

interface PerEcho {
  /** All threads' CPU (10 ms ticks). */
  readonly cpuUs: number;
  /** The main thread's CPU, and its time waiting for a CPU while runnable. */
  readonly mainUs: number;
  readonly waitUs: number;
  readonly switches: number;
}

interface Window {
  readonly rate: number;
  /** Per process label: CPU µs per echo, and context switches per echo. */
  readonly perEcho: Map<string, PerEcho>;
}

async function echoWindow(server: Server, rooms: number, ms: number, kind: string, inFlight = 1): Promise<Window> {
  const echoers = await Promise.all(Array.from({ length: rooms }, (_, i) => openEchoer(kind, server.port, `echo-${i}`)));
  const pids = partyhouseProcesses(server);
  const labels = new Map<number, string>();
  labels.set(server.child.pid!, pids.length === 1 ? "server" : "supervisor");
  pids.filter((pid) => pid !== server.child.pid).forEach((pid, i) => labels.set(pid, `worker${i}`));
  if (process.env.ECHO_COST_PIDS === "1") process.stderr.write(`${server.name} pids: ${[...labels].map(([pid, label]) => `${label}=${pid}`).join(" ")} load=${process.pid}\n`);
  let done = 0;
  let running = true;
  for (const echoer of echoers) {
    echoer.onMessage(() => {
      done++;
      if (running) echoer.send();
    });
  }
  const before = new Map(pids.map((pid) => [pid, countersOf(pid)]));
  const loadBefore = process.cpuUsage();
  const loadSwitchesBefore = countersOf(process.pid);
  const began = performance.now();
  for (const echoer of echoers) for (let i = 0; i < inFlight; i++) echoer.send();
  await new Promise((resolve) => setTimeout(resolve, ms));
  running = false;
  const elapsed = (performance.now() - began) / 1000;
  const echoes = done;
  const load = process.cpuUsage(loadBefore);
  const loadSwitches = countersOf(process.pid);
  const perEcho = new Map<string, PerEcho>();
  perEcho.set("load", {
    cpuUs: (load.user + load.system) / echoes,
    mainUs: (loadSwitches.runNs - loadSwitchesBefore.runNs) / 1000 / echoes,
    waitUs: (loadSwitches.waitNs - loadSwitchesBefore.waitNs) / 1000 / echoes,
    switches: (loadSwitches.voluntary + loadSwitches.involuntary - loadSwitchesBefore.voluntary - loadSwitchesBefore.involuntary) / echoes,
  });
  for (const pid of pids) {
    const a = before.get(pid)!;
    const b = countersOf(pid);
    perEcho.set(labels.get(pid)!, {
      cpuUs: ((b.ticks - a.ticks) * 10_000) / echoes,
      mainUs: (b.runNs - a.runNs) / 1000 / echoes,
      waitUs: (b.waitNs - a.waitNs) / 1000 / echoes,
      switches: (b.voluntary + b.involuntary - a.voluntary - a.involuntary) / echoes,
    });
  }
  for (const echoer of echoers) echoer.close();
  return { rate: echoes / elapsed, perEcho };
}

async function main(): Promise<void> {
  installExitHandlers();
  const rounds = Number(flag("rounds", "4"));
  const windowMs = Number(flag("window-ms", "3000"));
  const rooms = Number(flag("rooms", "16"));
  // `--rooms2 32` gives `--workers 2` twice the rooms, so each worker holds as many as the single process.
  const rooms2 = Number(flag("rooms2", String(rooms)));
  const kind = flag("client", "ws");
  // Messages each socket keeps outstanding (the bench: 1, a round trip at a time).
  const inFlight = Number(flag("in-flight", "1"));
  const one = await startServer("workers1", 1);
  const spread = await startServer("workers2", 2);
  // Every echo room on one worker of a second `--workers 2`: the other worker is stopped while
  // the rooms are placed (so it counts as stuck and gets none), then continued, idle.
  const packed = await startServer("workers2-packed", 2);
  const idle = partyhouseProcesses(packed).filter((pid) => pid !== packed.child.pid).slice(1);
  for (const pid of idle) process.kill(pid, "SIGSTOP");
  try {
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await echoWindow(packed, rooms2, 300, kind);
  } finally {
    // A stopped worker would not see its supervisor end (it leads a process group of its own).
    for (const pid of idle) process.kill(pid, "SIGCONT");
  }
  const servers = [one, spread, packed];
  for (const server of [spread, packed]) {
    await echoWindow(server, rooms2, 300, kind);
    // Which worker holds each echo room (a room's HTTP goes to its owner).
    const owners = new Map<string, number>();
    for (let i = 0; i < rooms2; i++) {
      const pid = await textOf(server.port, `/parties/main/echo-${i}?pid`);
      owners.set(pid, (owners.get(pid) ?? 0) + 1);
    }
    process.stderr.write(`${server.name}: echo rooms per worker pid: ${JSON.stringify(Object.fromEntries(owners))}\n`);
  }
  await echoWindow(one, rooms, 300, kind);
  const windows = new Map<string, Window[]>(servers.map((server) => [server.name, []]));
  for (let round = 0; round < rounds; round++) {
    // The order rotates, so each server comes first, second and third alike.
    const order = servers.map((_, i) => servers[(i + round) % servers.length]!);
    for (const server of order) {
      const window = await echoWindow(server, server === one ? rooms : rooms2, windowMs, kind, inFlight);
      windows.get(server.name)!.push(window);
      const parts = [...window.perEcho].map(([label, v]) => `${label} ${v.cpuUs.toFixed(1)} µs (main ${v.mainUs.toFixed(1)}, waited ${v.waitUs.toFixed(1)}) ${v.switches.toFixed(2)} cs`);
      process.stderr.write(`round ${round + 1} ${server.name}: ${window.rate.toFixed(0)}/s; ${parts.join("; ")}\n`);
    }
  }
  const base = windows.get(one.name)!;
  for (const [name, list] of windows) {
    const labels = [...list[0]!.perEcho.keys()];
    const cpu = labels.map((label) => `${label} ${median(list.map((w) => w.perEcho.get(label)!.cpuUs)).toFixed(1)}`);
    const total = median(list.map((w) => [...w.perEcho.values()].reduce((sum, v) => sum + v.cpuUs, 0)));
    const cs = labels.map((label) => `${label} ${median(list.map((w) => w.perEcho.get(label)!.switches)).toFixed(2)}`);
    const main = labels.map((label) => `${label} ${median(list.map((w) => w.perEcho.get(label)!.mainUs)).toFixed(1)}`);
    const waited = labels.map((label) => `${label} ${median(list.map((w) => w.perEcho.get(label)!.waitUs)).toFixed(1)}`);
    const mainTotal = median(list.map((w) => [...w.perEcho.values()].reduce((sum, v) => sum + v.mainUs, 0)));
    const waitedTotal = median(list.map((w) => [...w.perEcho.values()].reduce((sum, v) => sum + v.waitUs, 0)));
    const ratios = list.map((w, i) => w.rate / base[i]!.rate);
    process.stdout.write(
      `${name}: ${median(list.map((w) => w.rate)).toFixed(0)} echoes/s, ${median(ratios).toFixed(2)}x (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}); ` +
        `CPU µs/echo: ${cpu.join(", ")}, total ${total.toFixed(1)}; main thread µs/echo: ${main.join(", ")}, total ${mainTotal.toFixed(1)}; ` +
        `waited for a CPU µs/echo: ${waited.join(", ")}, total ${waitedTotal.toFixed(1)}; switches/echo: ${cs.join(", ")}\n`,
    );
  }
}

main()
  .catch((error) => {
    process.stderr.write(`echo-cost failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
