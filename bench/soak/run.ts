/**
 * Soak: a bounded run of mixed load against a real `partyhouse start`, printing the server's
 * RSS, V8 heap, open file descriptors and event-loop delay once per interval, and failing if
 * any of them grows after the warm-up.
 *
 *   npm run soak                                  # 10 minutes, one row per minute
 *   npm run soak -- --minutes 2 --interval 20     # a short run while developing
 *
 * The load: HTTP GETs and POSTs over 20 rooms, sockets joining and leaving, chat messages that
 * write storage and broadcast, rooms hibernating (after 1 s idle) and waking, a slow reader
 * that never reads (dropped by the server at 8 MB buffered, then reconnecting), and a flooder.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import WebSocket from "ws";
import { SOAK_CONFIG, SOAK_SERVER } from "./project.js";

const { values } = parseArgs({ options: { minutes: { type: "string", default: "10" }, interval: { type: "string", default: "60" } } });
const totalMs = Number(values.minutes) * 60_000;
const intervalMs = Number(values.interval) * 1000;
const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
const ROOMS = 20;

const project = mkdtempSync(join(tmpdir(), "partyhouse-soak-"));
writeFileSync(join(project, "partykit.json"), SOAK_CONFIG);
writeFileSync(join(project, "server.ts"), SOAK_SERVER);
const server = spawn(
  process.execPath,
  [join(repoRoot, "bin/partyhouse.js"), "start", "--host", "127.0.0.1", "--port", "0", "--persist", join(project, "data"), "--hibernate-after", "1000"],
  { cwd: project, stdio: ["ignore", "pipe", "pipe"] },
);
let serverLog = "";
server.stderr!.on("data", (chunk: Buffer) => {
  serverLog += chunk.toString();
  if (serverLog.length > 1_000_000) serverLog = serverLog.slice(-500_000);
});
const base = await new Promise<string>((resolve, reject) => {
  let out = "";
  server.stdout!.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    const match = /ready on (http:\/\/[^\s]+)/.exec(out);
    if (match) resolve(match[1]!);
  });
  server.once("exit", (code) => reject(new Error(`server exited with ${code}:\n${serverLog}`)));
});
const wsBase = base.replace("http", "ws");

const errorSamples = new Map<string, number>();
const counts = { requests: 0, requestErrors: 0, joins: 0, messages: 0, slowReaderDrops: 0, flooded: 0 };
process.on("unhandledRejection", (error) => {
  console.error("soak driver:", error);
  process.exitCode = 1;
});
const agent = new Agent({ keepAlive: true, maxSockets: 8 });
let running = true;
const timers: NodeJS.Timeout[] = [];
const room = () => `room-${Math.floor(Math.random() * ROOMS)}`;

function http(method: string, path: string, body?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, { method, agent }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => (res.statusCode === 200 ? resolve(text) : reject(new Error(`${res.statusCode} ${text}`))));
    });
    req.on("error", reject);
    req.end(body);
  });
}

// HTTP: 40 requests/s over all rooms, one in five a POST.
timers.push(
  setInterval(() => {
    const post = Math.random() < 0.2;
    http(post ? "POST" : "GET", `/parties/main/${room()}`, post ? "x".repeat(200) : undefined).then(
      () => counts.requests++,
      (error: Error) => {
        counts.requestErrors++;
        errorSamples.set(error.message.slice(0, 80), (errorSamples.get(error.message.slice(0, 80)) ?? 0) + 1);
      },
    );
  }, 25),
);

// Sockets joining, chatting (storage + broadcast) and leaving after 0.5-3 s: ~5 joins/s.
timers.push(
  setInterval(() => {
    const ws = new WebSocket(`${wsBase}/parties/main/${room()}`);
    ws.on("error", () => undefined);
    ws.on("open", () => {
      counts.joins++;
      const chat = setInterval(() => {
        if (ws.readyState === WebSocket.OPEN) {
          ws.send(`hello ${Date.now()}`);
          counts.messages++;
        }
      }, 200);
      setTimeout(() => {
        clearInterval(chat);
        ws.close();
      }, 500 + Math.random() * 2500);
    });
  }, 200),
);

// A slow reader: joins a room that gets broadcasts and stops reading; the server drops it at
// 8 MB queued. A paused client cannot see that, so every 15 s it reads again (then sees the
// close if it was dropped) and a new one takes its place.
function slowReader(): void {
  if (!running) return;
  const ws = new WebSocket(`${wsBase}/parties/main/room-0?_pk=slow-reader`);
  let dropped = false;
  ws.on("error", () => undefined);
  ws.on("open", () => ws.pause());
  ws.on("close", () => (dropped = true));
  const talker = new WebSocket(`${wsBase}/parties/main/room-0?_pk=talker`);
  talker.on("error", () => undefined);
  talker.on("open", () => {
    const big = "b".repeat(8 * 1024);
    const loop = setInterval(() => {
      if (!running || ws.readyState !== WebSocket.OPEN) return void clearInterval(loop);
      for (let i = 0; i < 20; i++) talker.send(big);
    }, 50);
  });
  setTimeout(() => {
    talker.close();
    ws.resume();
    setTimeout(() => {
      if (dropped) counts.slowReaderDrops++;
      ws.terminate();
      slowReader();
    }, 1000);
  }, 15_000);
}
slowReader();

// A flooder, in its own process (bench/flood/flooder.ts) so it does not starve this one.
const flooder = spawn(
  process.execPath,
  ["--import", "tsx", join(repoRoot, "bench/flood/flooder.ts"), `${wsBase}/parties/main/flooded`, String(Math.ceil(totalMs / 1000) + 5)],
  { cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"] },
);
flooder.stdout!.on("data", (chunk: Buffer) => (counts.flooded = Number(chunk.toString().trim()) || counts.flooded));

interface Row {
  minute: number;
  rssMb: number;
  heapMb: number;
  fds: number;
  loopP99: number;
  loopMax: number;
}
const rows: Row[] = [];
function rssMb(): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : NaN;
}
async function sample(index: number): Promise<void> {
  const stats = JSON.parse(await http("GET", "/parties/main/stats/__soak/stats")) as { heapUsed: number; fds: number; loopP99: number; loopMax: number };
  const row: Row = {
    minute: (index * intervalMs) / 60_000,
    rssMb: rssMb(),
    heapMb: stats.heapUsed / 1024 / 1024,
    fds: stats.fds,
    loopP99: stats.loopP99,
    loopMax: stats.loopMax,
  };
  rows.push(row);
  console.log(
    `| ${row.minute.toFixed(1)} | ${row.rssMb.toFixed(0)} | ${row.heapMb.toFixed(1)} | ${row.fds} | ${row.loopP99.toFixed(1)} | ${row.loopMax.toFixed(0)} | ${counts.requests} | ${counts.joins} | ${counts.messages} | ${counts.slowReaderDrops} |`,
  );
}

console.log(`soak: ${values.minutes} min, a row every ${values.interval} s (server ${base})`);
console.log("| minute | RSS (MB) | heap (MB) | open fds | loop delay p99 (ms) | loop delay max (ms) | HTTP requests | socket joins | chat messages | slow-reader drops |");
console.log("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
const samples = Math.max(2, Math.round(totalMs / intervalMs));
for (let i = 1; i <= samples; i++) {
  await new Promise((resolve) => setTimeout(resolve, intervalMs));
  await sample(i);
}

running = false;
for (const timer of timers) clearInterval(timer);
flooder.kill("SIGTERM");
agent.destroy();
const stopStarted = Date.now();
server.kill("SIGTERM");
const exitCode = await new Promise<number | null>((resolve) => server.once("exit", resolve));
console.log(`server stopped ${Date.now() - stopStarted} ms after SIGTERM`);
rmSync(project, { recursive: true, force: true });

// Growth after warm-up: the first 30% of the rows warm up; later rows may not exceed the
// warm-up's end by more than noise. Loop delay is judged on its p99 (max is one sample).
const warm = Math.max(1, Math.floor(rows.length * 0.3));
const reference = rows[warm - 1]!;
const later = rows.slice(warm);
const last = later.length > 0 ? later : rows;
const tail = last.slice(-Math.max(1, Math.ceil(last.length / 3)));
const mean = (pick: (row: Row) => number) => tail.reduce((sum, row) => sum + pick(row), 0) / tail.length;
const problems: string[] = [];
if (mean((r) => r.rssMb) > reference.rssMb * 1.2 + 10) problems.push(`RSS grew from ${reference.rssMb.toFixed(0)} to ${mean((r) => r.rssMb).toFixed(0)} MB`);
if (mean((r) => r.heapMb) > reference.heapMb * 1.3 + 5) problems.push(`heap grew from ${reference.heapMb.toFixed(1)} to ${mean((r) => r.heapMb).toFixed(1)} MB`);
if (mean((r) => r.fds) > reference.fds + 20) problems.push(`open fds grew from ${reference.fds} to ${mean((r) => r.fds).toFixed(0)}`);
if (mean((r) => r.loopP99) > reference.loopP99 * 2 + 20) problems.push(`loop delay p99 grew from ${reference.loopP99.toFixed(1)} to ${mean((r) => r.loopP99).toFixed(1)} ms`);
const blocked = (serverLog.match(/"event loop blocked"/g) ?? []).length;
const dropped = (serverLog.match(/dropping a client that does not keep up/g) ?? []).length;
if (process.env.SOAK_SHOW_LOG || exitCode !== 0) console.log(serverLog.slice(-3000));
console.log(
  `HTTP errors ${counts.requestErrors}${errorSamples.size > 0 ? ` (${[...errorSamples].map(([m, n]) => `${n}× ${m}`).join("; ")})` : ""}; slow clients dropped by the server ${dropped}; watchdog stall reports ${blocked}; server exit code ${exitCode} after SIGTERM`,
);
if (exitCode !== 0) problems.push(`server exited ${exitCode} on SIGTERM`);
if (problems.length > 0) {
  console.log(`FAIL: ${problems.join("; ")}`);
  process.exitCode = 1;
} else console.log("PASS: nothing grew after warm-up");
