// `npm run bench:cluster`: what forwarding costs. Two partyhouse nodes in cluster mode (a static
// directory, bench/cluster/node.ts) own nothing in common but the table: node "a" owns the bench
// rooms. The same load runs straight to the owner ("owner") and through node "b", which forwards
// to it ("edge"), in interleaved windows (bench/lib/drive-windows.ts, as `npm run bench`), and the
// table gives edge/owner as the median of per-round ratios. Server CPU counts both nodes.
// Then the PostgreSQL figures (bench/cluster/pg.ts) on real `partyhouse start --cluster` nodes.
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { request as httpRequest } from "node:http";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { installExitHandlers, spawnChild, stopAll, stopChild } from "../lib/children.js";
import { driveWindows } from "../lib/drive-windows.js";
import { freePort } from "../lib/free-port.js";
import { parseOptions } from "../lib/options.js";
import { resultsDir, repoRoot } from "../lib/paths.js";
import { processTree } from "../lib/proc-stats.js";
import { median } from "../lib/stats.js";
import { pairedRatio, warnings, type ScenarioRecord } from "../lib/results.js";
import { formatValue, targetCell } from "../lib/table.js";
import { waitReady } from "../lib/wait-ready.js";
import { echo } from "../scenarios/echo.js";
import { httpOneRoom } from "../scenarios/http.js";
import type { WindowedScenario } from "../scenarios/types.js";
import { HOST, type RunningServer } from "../servers/server-handle.js";
import { pgFigures } from "./pg.js";

const t0 = Date.now();
const log = (line: string) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);

/** Forwarding targets (issue 10): through a non-owner at least half the owner's rate. */
const TARGETS: Record<string, number> = { "http.rps": 0.5, "echo.rps": 0.5 };

/**
 * The runner's machinery keys servers by name; "bare" plays the baseline (straight to the owner)
 * and "partyhouse" the figure being judged (through the edge), so pairedRatio gives edge/owner.
 */
const OWNER = "bare" as const;
const EDGE = "partyhouse" as const;

async function startNode(specPath: string, id: string, port: number, workDir: string) {
  const logPath = join(workDir, `node-${id}.log`);
  const out = openSync(logPath, "a");
  // BENCH_SERVER_PROF=<dir>: CPU profiles of both nodes, written when they stop (as in `npm run bench`).
  const prof = process.env.BENCH_SERVER_PROF ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_SERVER_PROF}`] : [];
  const args = [...prof, "--import", "tsx", "bench/cluster/node.ts", specPath, id, String(port)];
  const child = spawnChild(`node ${id}`, process.execPath, args, {
    cwd: repoRoot,
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  await waitReady(child, `http://${HOST}:${port}/parties/main/bench-ready`, 30_000);
  log(`started node ${id} on port ${port} (pid ${child.pid})`);
  return child;
}

async function main(): Promise<void> {
  const own = new Set(["--cluster", "--no-pg", "--pg-only"]);
  const argv = process.argv.slice(2);
  const settings = parseOptions(argv.filter((a) => !own.has(a)));
  // --no-pg: only the forwarding figures (no PostgreSQL needed); --pg-only: only the PostgreSQL ones.
  const withPg = !argv.includes("--no-pg");
  const forwarding = !argv.includes("--pg-only");
  installExitHandlers();
  const workDir = mkdtempSync(join(tmpdir(), "partyhouse-bench-cluster-"));
  process.once("exit", () => rmSync(workDir, { recursive: true, force: true }));
  const [portA, portB] = [await freePort(), await freePort()];
  const spec = {
    secret: randomBytes(32).toString("hex"),
    nodes: { a: `${HOST}:${portA}`, b: `${HOST}:${portB}` },
    rooms: { "main/http-room": "a", "main/echo-room": "a", "main/bench-ready": "a" },
  };
  const specPath = join(workDir, "cluster.json");
  writeFileSync(specPath, JSON.stringify(spec));

  const records: ScenarioRecord[] = [];
  const children = [];
  let bodies: Map<string, number[]> | undefined;
  try {
    if (forwarding) {
      children.push(await startNode(specPath, "a", portA, workDir));
      children.push(await startNode(specPath, "b", portB, workDir));
    }
    const pids = children.map((c) => c.pid!);
    const server = (name: typeof OWNER | typeof EDGE, port: number): RunningServer => ({
      name,
      host: HOST,
      port,
      pid: pids[0]!,
      memoryPath: "/parties/main/memory/__bench/memory",
      // Both nodes: a forwarded request costs CPU on the edge and on the owner.
      tree: () => pids.flatMap((pid) => processTree(pid)),
      exited: () => null,
      stop: async () => {},
    });
    const servers = [server(OWNER, portA), server(EDGE, portB)];
    // First, while the room is fresh: an idle room evicted and released meanwhile may be re-placed.
    if (forwarding) bodies = await bodyRounds(servers, settings.quick ? 3 : 5);
    const scenarios: WindowedScenario[] = [httpOneRoom, echo];
    for (const scenario of scenarios) {
      if (!forwarding || !settings.scenarios.includes(scenario.id)) continue;
      log(`scenario ${scenario.id}: ${scenario.title}`);
      const figures = await driveWindows(scenario, servers, settings, log);
      const record: ScenarioRecord = { id: scenario.id, title: scenario.title, metrics: scenario.metrics, servers: {} };
      for (const [name, { windows, error }] of figures) {
        const keys = Object.keys(windows[0]?.metrics ?? {});
        const medians = Object.fromEntries(keys.map((k) => [k, median(windows.map((w) => w.metrics[k]!))]));
        record.servers[name] = { median: medians, windows, ...(error ? { error } : {}) };
      }
      records.push(record);
    }
  } finally {
    await Promise.all(children.map((child) => stopChild(child, 5000)));
    await stopAll();
  }

  const header = ["scenario", "straight to the owner", "through a non-owner", "non-owner/owner", "target"];
  const rows: string[][] = [];
  for (const record of records) {
    for (const metric of record.metrics) {
      const owner = record.servers[OWNER]?.median[metric.key];
      const edge = record.servers[EDGE]?.median[metric.key];
      const r = pairedRatio(record, metric.key, OWNER);
      const spread = r?.q1 !== undefined && r.q3 !== undefined ? ` (${r.q1.toFixed(2)}–${r.q3.toFixed(2)})` : "";
      const target = TARGETS[metric.key];
      const label = `${metric.label}${metric.unit === "/s" ? "" : ` (${metric.unit})`}${metric.better === "lower" ? " ↓" : ""}`;
      rows.push([
        metric.key.endsWith(".cpu") ? `${label}, both nodes` : label,
        formatValue(owner, metric.unit),
        formatValue(edge, metric.unit),
        r && Number.isFinite(r.value) ? `${r.value.toFixed(2)}x${spread}` : "–",
        target === undefined ? "" : targetCell({ ...metric, target }, r?.value),
      ]);
    }
  }
  if (bodies) {
    const [owner, edge] = [bodies.get(OWNER)!, bodies.get(EDGE)!];
    const ratio = median(edge.map((v, i) => v / owner[i]!));
    rows.push(["8 MiB unsized uploads, MB/s", median(owner).toFixed(0), median(edge).toFixed(0), `${ratio.toFixed(2)}x`, ""]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  const table = [line(header), `|${widths.map((w, i) => (i === 0 ? ":" : "") + "-".repeat(w + 1) + (i === 0 ? "" : ":")).join("|")}|`, ...rows.map(line)].join("\n");

  console.log(`\n${settings.quick ? "quick" : "full"} run, ${settings.windows} window(s) of ${settings.windowMs} ms per path, medians (ratio: median of per-round ratios); ↓ = lower is better\n`);
  if (forwarding) console.log(table);
  if (withPg) {
    log("PostgreSQL figures: real `partyhouse start --cluster` nodes");
    const { rows: pgRows } = await pgFigures(log, settings.quick);
    const pgHeader = ["PostgreSQL figure", "value", "compared with", "ratio", "target"];
    const w = pgHeader.map((h, i) => Math.max(h.length, ...pgRows.map((r) => r[i]!.length)));
    const pgLine = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(w[i]!)).join(" | ")} |`;
    console.log("");
    console.log([pgLine(pgHeader), `|${w.map((x, i) => (i === 0 ? ":" : "") + "-".repeat(x + 1) + (i === 0 ? "" : ":")).join("|")}|`, ...pgRows.map(pgLine)].join("\n"));
  }
  for (const warning of warnings(records)) console.log(`warning: ${warning.replace(/ on bare/g, " straight to the owner").replace(/ on partyhouse/g, " through a non-owner")}`);
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `cluster-${new Date(t0).toISOString().replace(/[:.]/g, "-")}.json`);
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version };
  writeFileSync(file, JSON.stringify({ machine, settings, roles: { bare: "owner", partyhouse: "edge" }, scenarios: records, table }, null, 2));
  console.log(`\nfull results: ${file}`);
}

/**
 * Large streamed bodies: per round and server (rotating order), 16 uploads of 8 MiB without a
 * content-length (so the edge streams them), 4 at a time, to a room path that reads the whole
 * body; MB/s of each round.
 */
async function bodyRounds(servers: RunningServer[], rounds: number): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>(servers.map((s) => [s.name, []]));
  const chunk = Buffer.alloc(256 * 1024, 7);
  // A room evicted while idle may answer its first request 503 (retry-after), as partysocket would see.
  const upload = async (server: RunningServer): Promise<number> => {
    for (let attempt = 0; ; attempt++) {
      try {
        return await uploadOnce(server);
      } catch (error) {
        if (attempt >= 3 || !String(error).includes(" 503 ")) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  };
  const uploadOnce = (server: RunningServer) =>
    new Promise<number>((resolve, reject) => {
      const req = httpRequest({ host: server.host, port: server.port, method: "POST", path: "/parties/main/http-room/sink", headers: { "transfer-encoding": "chunked" } }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => (res.statusCode === 200 ? resolve(Number(text)) : reject(new Error(`upload: ${res.statusCode} ${text}`))));
      });
      req.on("error", reject);
      let sent = 0;
      const more = () => {
        while (sent < 32) {
          sent++;
          if (!req.write(chunk)) return void req.once("drain", more);
        }
        req.end();
      };
      more();
    });
  for (let round = 0; round < rounds; round++) {
    const order = servers.slice(round % servers.length).concat(servers.slice(0, round % servers.length));
    for (const server of order) {
      const started = performance.now();
      let bytes = 0;
      for (let batch = 0; batch < 4; batch++) {
        const sizes = await Promise.all([0, 1, 2, 3].map(() => upload(server)));
        bytes += sizes.reduce((x, y) => x + y, 0);
      }
      const mbps = bytes / 1e6 / ((performance.now() - started) / 1000);
      out.get(server.name)!.push(mbps);
      log(`  uploads ${server.name} round ${round + 1}: ${mbps.toFixed(0)} MB/s`);
    }
  }
  return out;
}

main().catch(async (error) => {
  console.error(error instanceof Error ? error.stack : error);
  await stopAll();
  process.exit(1);
});
