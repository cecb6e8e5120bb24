// `npm run bench:workers`: `partyhouse start --workers 2` against `--workers 1`, both running
// at once, measured in interleaved windows (the order alternates each round); each figure is
// the median over rounds of the per-round ratio workers2/workers1. Then the stall: a
// `while (true)` in one room of a `--workers 2 --max-event-ms 2000` server, HTTP latency to the
// rooms of the other worker meanwhile, and how soon the stuck room answers again.
//
//   npm run bench:workers -- [--rounds 5] [--window-ms 3000]
import { cpSync, mkdtempSync, openSync, closeSync, rmSync } from "node:fs";
import { request } from "node:http";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import WebSocket from "ws";
import { installExitHandlers, spawnChild, stopAll, stopChild } from "../lib/children.js";
import { freePort } from "../lib/free-port.js";
import { KeepAliveConnection } from "../lib/http-raw.js";
import { repoRoot } from "../lib/paths.js";
import { median } from "../lib/stats.js";
import { waitReady } from "../lib/wait-ready.js";
import { textOf } from "../lib/http-text.js";

const HOST = "127.0.0.1";
const bin = join(repoRoot, "bin/partyhouse.js");
const t0 = Date.now();
const log = (line: string) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`);
  return at === -1 ? fallback : Number(process.argv[at + 1]);
}

interface Server {
  readonly name: string;
  readonly port: number;
  readonly child: ChildProcess;
}

async function startServer(name: string, workers: number, extra: string[] = []): Promise<Server> {
  const dir = mkdtempSync(join(tmpdir(), `partyhouse-bench-workers-${name}-`));
  cpSync(join(repoRoot, "bench/workers/project"), dir, { recursive: true });
  process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const port = await freePort();
  const out = openSync(join(dir, "server.log"), "a");
  const child = spawnChild(name, process.execPath, [bin, "start", "--host", HOST, "--port", String(port), "--workers", String(workers), ...extra], {
    cwd: dir,
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  await waitReady(child, `http://${HOST}:${port}/parties/main/ready`, 60_000);
  log(`started ${name} (--workers ${workers}) on port ${port}`);
  return { name, port, child };
}

/** Closed-loop HTTP: one connection per room, each sending its next request when the last is answered. */
async function httpWindow(server: Server, rooms: number, query: string, ms: number): Promise<number> {
  let done = 0;
  let errors = 0;
  let running = true;
  const connections = Array.from({ length: rooms }, () => new KeepAliveConnection(HOST, server.port));
  const loops = connections.map(
    (connection, i) =>
      new Promise<void>((resolve) => {
        const path = `/parties/main/room-${i}${query}`;
        connection.onError = () => {
          errors++;
          if (running) connection.get(path, next);
          else resolve();
        };
        const next = (status: number) => {
          if (status === 200) done++;
          else errors++;
          if (running) connection.get(path, next);
          else resolve();
        };
        connection.get(path, next);
      }),
  );
  const began = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ms));
  running = false;
  const elapsed = (performance.now() - began) / 1000;
  await Promise.all(loops);
  for (const connection of connections) connection.close();
  if (errors > 0) log(`  ${server.name}: ${errors} errors`);
  return done / elapsed;
}

function openSocket(server: Server, room: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${HOST}:${server.port}/parties/main/${room}`);
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

/**
 * Echo: `sockets` sockets, each sending its next message when the last came back; one room each,
 * or all in one room (`sameRoom`: with --workers 2 all on one worker, so the hand-off's own cost
 * shows apart from the split over two processes).
 */
async function echoWindow(server: Server, count: number, ms: number, sameRoom = false): Promise<number> {
  const sockets = await Promise.all(Array.from({ length: count }, (_, i) => openSocket(server, sameRoom ? "echo-together" : `echo-${i}`)));
  let done = 0;
  let running = true;
  for (const ws of sockets) {
    ws.on("message", () => {
      done++;
      if (running) ws.send("ping");
    });
  }
  const began = performance.now();
  for (const ws of sockets) ws.send("ping");
  await new Promise((resolve) => setTimeout(resolve, ms));
  running = false;
  const elapsed = (performance.now() - began) / 1000;
  for (const ws of sockets) ws.terminate();
  return done / elapsed;
}

/** Fan-out: `listeners` sockets in one room; a sender broadcasts again once every listener got the last one. */
async function fanoutWindow(server: Server, listeners: number, ms: number): Promise<number> {
  const room = "fanout";
  const sockets = await Promise.all(Array.from({ length: listeners }, () => openSocket(server, room)));
  let delivered = 0;
  let pending = 0;
  let running = true;
  const sender = sockets[0]!;
  const fire = () => {
    pending = listeners;
    sender.send("fan");
  };
  for (const ws of sockets) {
    ws.on("message", () => {
      delivered++;
      if (--pending === 0 && running) fire();
    });
  }
  const began = performance.now();
  fire();
  await new Promise((resolve) => setTimeout(resolve, ms));
  running = false;
  const elapsed = (performance.now() - began) / 1000;
  for (const ws of sockets) ws.terminate();
  return delivered / elapsed;
}


/** One GET on a connection of its own; its latency in ms, or undefined if it failed. */
function timedGet(port: number, path: string, timeoutMs: number): Promise<number | undefined> {
  const began = performance.now();
  return new Promise((resolve) => {
    const req = request({ host: HOST, port, path, agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode === 200 ? performance.now() - began : undefined));
    });
    req.setTimeout(timeoutMs, () => req.destroy());
    req.on("error", () => resolve(undefined));
    req.end();
  });
}

interface Scenario {
  readonly id: string;
  readonly label: string;
  readonly target: number;
  readonly run: (server: Server, ms: number) => Promise<number>;
}

async function main(): Promise<void> {
  installExitHandlers();
  const rounds = flag("rounds", 5);
  const windowMs = flag("window-ms", 3_000);
  log(`${cpus().length} cores, ${rounds} rounds of ${windowMs} ms windows`);
  const one = await startServer("workers1", 1);
  const two = await startServer("workers2", 2);
  const scenarios: Scenario[] = [
    { id: "cpu", label: "HTTP, onRequest burns 2 ms, 64 rooms (req/s)", target: 1.7, run: (s, ms) => httpWindow(s, 64, "?burn=2", ms) },
    { id: "http", label: "HTTP, trivial, 16 rooms (req/s)", target: 0.9, run: (s, ms) => httpWindow(s, 16, "", ms) },
    { id: "echo", label: "WebSocket echo, 16 rooms (msg/s)", target: 0.9, run: (s, ms) => echoWindow(s, 16, ms) },
    { id: "echo-one-room", label: "WebSocket echo, 16 sockets in one room (msg/s)", target: 0.9, run: (s, ms) => echoWindow(s, 16, ms, true) },
    { id: "fanout", label: "fan-out, 200 sockets in one room (deliveries/s)", target: 0.9, run: (s, ms) => fanoutWindow(s, 200, ms) },
  ];
  const figures = new Map<string, { one: number[]; two: number[]; ratios: number[] }>();
  for (const scenario of scenarios) figures.set(scenario.id, { one: [], two: [], ratios: [] });
  // A first short window per scenario warms both servers (JIT, rooms built) and is not counted.
  for (const scenario of scenarios) for (const server of [one, two]) await scenario.run(server, 500);
  for (let round = 0; round < rounds; round++) {
    for (const scenario of scenarios) {
      const order = round % 2 === 0 ? [one, two] : [two, one];
      const rates = new Map<string, number>();
      for (const server of order) rates.set(server.name, await scenario.run(server, windowMs));
      const figure = figures.get(scenario.id)!;
      figure.one.push(rates.get("workers1")!);
      figure.two.push(rates.get("workers2")!);
      figure.ratios.push(rates.get("workers2")! / rates.get("workers1")!);
      log(`round ${round + 1} ${scenario.id}: workers1 ${rates.get("workers1")!.toFixed(0)}, workers2 ${rates.get("workers2")!.toFixed(0)}`);
    }
  }
  await stopChild(one.child);
  await stopChild(two.child);

  const stall = await stallFigures();
  const lines = [
    "| scenario | `--workers 1` | `--workers 2` | ratio (min–max) | target |",
    "|:--|--:|--:|--:|:--|",
  ];
  for (const scenario of scenarios) {
    const figure = figures.get(scenario.id)!;
    const ratio = median(figure.ratios);
    const range = `${Math.min(...figure.ratios).toFixed(2)}–${Math.max(...figure.ratios).toFixed(2)}`;
    lines.push(
      `| ${scenario.label} | ${median(figure.one).toFixed(0)} | ${median(figure.two).toFixed(0)} | ${ratio.toFixed(2)}x (${range}) | ≥ ${scenario.target}x ${ratio >= scenario.target ? "ok" : "MISSED"} |`,
    );
  }
  lines.push("");
  lines.push("| stall (`while (true)` in one room, `--workers 2 --max-event-ms 2000`) | measured | target |");
  lines.push("|:--|--:|:--|");
  lines.push(`| HTTP p99 to the other worker's rooms during the stall (${stall.samples} requests) | ${stall.p99.toFixed(1)} ms | ≤ 50 ms ${stall.p99 <= 50 ? "ok" : "MISSED"} |`);
  lines.push(`| HTTP max to the other worker's rooms during the stall | ${stall.max.toFixed(1)} ms | |`);
  lines.push(
    `| HTTP max, first request on kept-alive connections left idle on the stuck worker (${stall.keptSamples}) | ${stall.keptMax.toFixed(1)} ms | ≤ 50 ms ${stall.keptMax <= 50 ? "ok" : "MISSED"} |`,
  );
  lines.push(`| the stuck room answers again, after the stall's 2 s end | ${stall.backAfterMs.toFixed(0)} ms | ≤ 3000 ms ${stall.backAfterMs <= 3_000 ? "ok" : "MISSED"} |`);
  process.stdout.write(`\n${lines.join("\n")}\n`);
}

/** One GET on a kept-alive connection: its time in ms, or undefined if it failed or took over 5 s. */
function timedKeptGet(connection: KeepAliveConnection, path: string): Promise<number | undefined> {
  const began = performance.now();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), 5_000);
    connection.get(path, (status) => {
      clearTimeout(timer);
      resolve(status === 200 ? performance.now() - began : undefined);
    });
  });
}

/** The stall scenario on a server of its own. */
async function stallFigures(): Promise<{ p99: number; max: number; samples: number; keptMax: number; keptSamples: number; backAfterMs: number }> {
  const server = await startServer("stall", 2, ["--max-event-ms", "2000"]);
  try {
    const pids: string[] = [];
    for (let i = 0; i < 8; i++) pids.push(await textOf(server.port, `/parties/main/stall-${i}?pid`));
    const others = pids.flatMap((pid, i) => (pid !== pids[0] ? [i] : []));
    if (others.length === 0) throw new Error("every stall room is on one worker");
    // Kept-alive connections used for the stuck room just before, then idle: each carries one
    // request for another worker's room during the stall.
    const kept = Array.from({ length: 8 }, () => new KeepAliveConnection(HOST, server.port));
    await Promise.all(kept.map((connection) => timedKeptGet(connection, `/parties/main/stall-0`)));
    await new Promise((resolve) => setTimeout(resolve, 200));
    const blockedAt = performance.now();
    void timedGet(server.port, `/parties/main/stall-0?block`, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const latencies: number[] = [];
    const keptLatencies: number[] = [];
    while (performance.now() - blockedAt < 1_900) {
      for (const i of others) {
        const ms = await timedGet(server.port, `/parties/main/stall-${i}`, 5_000);
        latencies.push(ms ?? 5_000);
        const connection = kept[keptLatencies.length];
        if (connection !== undefined) keptLatencies.push((await timedKeptGet(connection, `/parties/main/stall-${i}`)) ?? 5_000);
      }
    }
    for (const connection of kept) connection.close();
    // Ends at about 2 s (the watchdog), then the room is placed on a running worker.
    let back: number | undefined;
    while (back === undefined && performance.now() - blockedAt < 15_000) {
      if ((await timedGet(server.port, `/parties/main/stall-0`, 1_000)) !== undefined) back = performance.now() - blockedAt;
      else await new Promise((resolve) => setTimeout(resolve, 20));
    }
    latencies.sort((a, b) => a - b);
    return {
      p99: latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))]!,
      max: latencies.at(-1)!,
      samples: latencies.length,
      keptMax: Math.max(...keptLatencies),
      keptSamples: keptLatencies.length,
      backAfterMs: (back ?? Number.POSITIVE_INFINITY) - 2_000,
    };
  } finally {
    await stopChild(server.child);
  }
}

main()
  .catch((error) => {
    process.stderr.write(`bench:workers failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
