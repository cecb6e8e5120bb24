/**
 * Fairness under a flood (issue 11): one client floods a room whose onMessage writes storage
 * per message, while a probe times HTTP requests to another room. Reports the probe's p50/p99
 * before and during the flood and the server's RSS. Targets: p99 ≤ 50 ms and RSS ≤ 150 MB.
 *
 *   node --import tsx bench/flood/run.ts [--seconds 20] [--baseline 3]
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { seconds: { type: "string", default: "20" }, baseline: { type: "string", default: "3" } } });
const floodSeconds = Number(values.seconds);
const baselineSeconds = Number(values.baseline);
const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

const project = mkdtempSync(join(tmpdir(), "partyhouse-flood-"));
writeFileSync(join(project, "partykit.json"), JSON.stringify({ name: "flood", main: "server.ts" }));
writeFileSync(
  join(project, "server.ts"),
  `import { monitorEventLoopDelay } from "node:perf_hooks";
  const delay = monitorEventLoopDelay({ resolution: 5 });
  delay.enable();
  export default class Flood {
    constructor(room) { this.room = room; this.count = 0; }
    onMessage(message) { this.room.storage.put("m" + (this.count++ % 1000), message); }
    onRequest(req) {
      if (req.url.endsWith("/mem")) return Response.json({ ...process.memoryUsage(), loopP99: delay.percentile(99) / 1e6, loopMax: delay.max / 1e6 });
      if (req.url.endsWith("/reset")) { delay.reset(); return new Response("reset"); }
      return new Response("ok " + this.room.id);
    }
  }`,
);

const nodeArgs = (process.env.FLOOD_NODE_ARGS ?? "").split(" ").filter(Boolean);
const server = spawn(process.execPath, [...nodeArgs, process.env.FLOOD_BIN ?? join(repoRoot, "bin/partyhouse.js"), "start", "--host", "127.0.0.1", "--port", "0", "--persist", process.env.FLOOD_PERSIST ?? join(project, "data")], {
  cwd: project,
  stdio: ["ignore", "pipe", "pipe"],
});
let serverErr = "";
server.stderr!.on("data", (chunk: Buffer) => (serverErr += chunk.toString()));
if (process.env.FLOOD_SERVER_OUT) server.stdout!.pipe(process.stderr);
const url = await new Promise<string>((resolve, reject) => {
  let out = "";
  server.stdout!.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    const match = /ready on (http:\/\/[^\s]+)/.exec(out);
    if (match) resolve(match[1]!);
  });
  server.once("exit", () => reject(new Error(`server exited:\n${serverErr}`)));
});

function rssMb(): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"));
  return match ? Number(match[1]) / 1024 : 0;
}

const agent = new Agent({ keepAlive: true, maxSockets: 1 });
function timedGet(): Promise<number> {
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(`${url}/parties/main/probe`, { agent }, (res) => {
      res.resume();
      res.on("end", () => resolve(Number(process.hrtime.bigint() - started) / 1e6));
    });
    req.on("error", reject);
    req.end();
  });
}

/** Sequential requests, one every `gapMs` at most, for `seconds`. */
async function probe(seconds: number, gapMs = 10): Promise<number[]> {
  const times: number[] = [];
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const ms = await timedGet();
    times.push(ms);
    if (ms < gapMs) await new Promise((resolve) => setTimeout(resolve, gapMs - ms));
  }
  return times;
}

function pct(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

await probe(1); // warm-up
const before = await probe(baselineSeconds);
const rssBefore = rssMb();
let maxRss = rssBefore;
const sampler = setInterval(() => (maxRss = Math.max(maxRss, rssMb())), 200);
await fetch(`${url}/parties/main/probe/reset`);
const flooder = spawn(process.execPath, ["--import", "tsx", join(repoRoot, "bench/flood/flooder.ts"), `${url.replace("http", "ws")}/parties/main/flooded`, String(floodSeconds)], {
  cwd: repoRoot,
  stdio: ["ignore", "pipe", "inherit"],
});
let sentText = "";
flooder.stdout!.on("data", (chunk: Buffer) => (sentText += chunk.toString()));
await new Promise((resolve) => setTimeout(resolve, 1000)); // let the flood get going
const during = await probe(floodSeconds - 1.5);
await new Promise((resolve) => flooder.once("exit", resolve));
clearInterval(sampler);
const rssAfter = rssMb();
const memory = (await (await fetch(`${url}/parties/main/probe/mem`)).json()) as Record<string, number>;
const mb = (bytes: number | undefined) => ((bytes ?? 0) / 1024 / 1024).toFixed(0);
agent.destroy();
server.kill("SIGTERM");
await new Promise((resolve) => server.once("exit", resolve));
rmSync(project, { recursive: true, force: true });

const sent = Number(sentText.trim());
console.log(`flood: ${sent.toLocaleString("en")} messages in ${floodSeconds} s (${Math.round(sent / floodSeconds).toLocaleString("en")}/s accepted by the server's reading)`);
console.log("| phase | requests | p50 (ms) | p99 (ms) | max (ms) |");
console.log("|:--|--:|--:|--:|--:|");
for (const [name, times] of [["no flood", before], ["during the flood", during]] as const) {
  console.log(`| ${name} | ${times.length} | ${pct(times, 50).toFixed(2)} | ${pct(times, 99).toFixed(2)} | ${Math.max(...times).toFixed(2)} |`);
}
console.log(`server RSS: ${rssBefore.toFixed(0)} MB before, max ${maxRss.toFixed(0)} MB during, ${rssAfter.toFixed(0)} MB after`);
console.log(`after: heap used ${mb(memory.heapUsed)} of ${mb(memory.heapTotal)} MB, external ${mb(memory.external)} MB, array buffers ${mb(memory.arrayBuffers)} MB`);
console.log(`server event-loop delay during the flood: p99 ${memory.loopP99!.toFixed(1)} ms, max ${memory.loopMax!.toFixed(1)} ms`);
const ok = pct(during, 99) <= 50 && maxRss <= 150;
console.log(`targets (p99 ≤ 50 ms, RSS ≤ 150 MB): ${ok ? "met" : "NOT met"}`);
