// What a backup costs a serving room: 32 writers POST to `partyhouse start` (each request writes
// two keys and gets its reply once they are durable), first with nothing else running, then
// while `partyhouse backup --admin` copies the store through the admin listener. Latencies are
// grouped by when each request started. Rounds alternate a quiet window and a backup, so that
// the machine's other load falls on both alike; the figures pool every round.
import { spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { freePort } from "../lib/free-port.js";
import { quantile } from "../lib/stats.js";
import { waitReady } from "../lib/wait-ready.js";

const WRITERS = 32;

const SERVER = `
export default class Server {
  constructor(room) { this.room = room; }
  onRequest(request) {
    const n = new URL(request.url).searchParams.get("n");
    this.room.storage.put("counter", n);
    this.room.storage.put("log:" + n, n);
    return new Response(n);
  }
}
`;

export interface Latencies {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface PauseFigures {
  readonly baseline: Latencies;
  readonly during: Latencies;
  readonly rounds: number;
  /** Mean wall time of one backup. */
  readonly backupSeconds: number;
  /** The server's largest event-loop delay (prom-client, reset at every scrape) in its quiet windows and while backing up. */
  readonly loopMaxMs: { readonly quiet: number; readonly backup: number };
  /** From the server's "snapshot taken" log line. */
  readonly slices?: number;
  readonly longestSliceMs?: number;
}

export async function measurePause(options: { bin: string; dataFolder: string; work: string; baselineMs: number; rounds: number }): Promise<PauseFigures> {
  const project = path.join(options.work, "project");
  fs.mkdirSync(project, { recursive: true });
  fs.writeFileSync(path.join(project, "partykit.json"), `{ "main": "server.js" }`);
  fs.writeFileSync(path.join(project, "server.js"), SERVER);
  const [port, adminPort] = [await freePort(), await freePort()];
  const server = spawn(
    process.execPath,
    [options.bin, "start", "--persist", options.dataFolder, "--port", String(port), "--host", "127.0.0.1", "--admin-port", String(adminPort)],
    { cwd: project, stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  server.stderr!.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const agent = new http.Agent({ keepAlive: true, maxSockets: WRITERS });
  const samples: Array<[start: number, ms: number]> = [];
  let running = true;
  try {
    await waitReady(server, `http://127.0.0.1:${port}/parties/main/ready`, 30_000);
    const writers = Array.from({ length: WRITERS }, async (_, w) => {
      for (let n = 0; running; n++) {
        const start = performance.now();
        await post(agent, port, `/parties/main/writer-${w}?n=${n}`);
        samples.push([start, performance.now() - start]);
      }
    });
    await sleep(1_000); // warm-up
    const quiet: Array<[number, number]> = [];
    const backups: Array<[number, number]> = [];
    const loopMaxMs = { quiet: 0, backup: 0 };
    const admin = `http://127.0.0.1:${adminPort}`;
    await loopMax(admin);
    for (let round = 0; round < options.rounds; round++) {
      const quietFrom = performance.now();
      await sleep(options.baselineMs);
      const backupFrom = performance.now();
      quiet.push([quietFrom, backupFrom]);
      loopMaxMs.quiet = Math.max(loopMaxMs.quiet, await loopMax(admin));
      await runBackup(options.bin, path.join(options.work, "pause-backup.jsonl"), admin, project);
      backups.push([backupFrom, performance.now()]);
      loopMaxMs.backup = Math.max(loopMaxMs.backup, await loopMax(admin));
    }
    running = false;
    await Promise.all(writers);
    const taken = [...log.matchAll(/\{[^\n]*"event":"snapshot taken"[^\n]*\}/g)].map((match) => JSON.parse(match[0]) as { slices: number; longestSliceMs: number });
    return {
      baseline: figures(samples, quiet),
      during: figures(samples, backups),
      rounds: options.rounds,
      loopMaxMs,
      backupSeconds: backups.reduce((sum, [from, to]) => sum + (to - from), 0) / 1000 / backups.length,
      ...(taken.length > 0 ? { slices: Math.max(...taken.map((t) => t.slices)), longestSliceMs: Math.max(...taken.map((t) => t.longestSliceMs)) } : {}),
    };
  } finally {
    running = false;
    agent.destroy();
    if (server.exitCode === null) {
      server.kill("SIGTERM");
      await new Promise((resolve) => server.once("exit", resolve));
    }
  }
}

/** The largest event-loop delay since the last scrape (prom-client resets it when scraped). */
async function loopMax(admin: string): Promise<number> {
  const text = await (await fetch(`${admin}/metrics`)).text();
  const match = /^nodejs_eventloop_lag_max_seconds (\S+)$/m.exec(text);
  return match ? Number(match[1]) * 1000 : NaN;
}

function figures(samples: ReadonlyArray<[number, number]>, windows: ReadonlyArray<[number, number]>): Latencies {
  const ms = samples.filter(([start]) => windows.some(([from, to]) => start >= from && start < to)).map(([, value]) => value);
  // Not Math.max(...ms): a spread of 100,000 samples overflows the stack.
  return { count: ms.length, p50: quantile(ms, 0.5), p99: quantile(ms, 0.99), max: ms.reduce((a, b) => Math.max(a, b), 0) };
}

function post(agent: http.Agent, port: number, target: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = http.request({ host: "127.0.0.1", port, path: target, method: "POST", agent }, (response) => {
      response.resume();
      response.on("end", () => (response.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${response.statusCode}`))));
    });
    request.on("error", reject);
    request.end();
  });
}

function runBackup(bin: string, file: string, admin: string, cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, "backup", file, "--admin", admin], { cwd, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`backup exited with ${code}: ${stderr}`))));
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
