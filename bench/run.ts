// `npm run bench`: start bare, partykit dev and partyhouse side by side on 127.0.0.1, drive each
// from separate load processes with identical load, and print one table of medians and ratios.
// Results (every window, not just medians) go to bench/results/<timestamp>.json.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir, cpus, loadavg } from "node:os";
import { join } from "node:path";
import { parseOptions, type Settings } from "./lib/options.js";
import { installExitHandlers, stopAll } from "./lib/children.js";
import { resultsDir } from "./lib/paths.js";
import { median } from "./lib/stats.js";
import { tableRows, warnings, type ScenarioRecord } from "./lib/results.js";
import { driveWindows } from "./lib/drive-windows.js";
import { measureDiskSync, type DiskSyncLatency } from "./lib/disk-sync.js";
import { renderTable } from "./lib/table.js";
import { SCENARIOS } from "./scenarios/index.js";
import type { Scenario } from "./scenarios/types.js";
import { startServer, type RunningServer, type ServerName } from "./servers/server-handle.js";
import { planBare, planPartyhouse, planPartykit, SERVER_LABELS, type Plan } from "./servers/targets.js";

const t0 = Date.now();
const log = (line: string) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);

async function plan(name: ServerName, settings: Settings, workDir: string): Promise<Plan> {
  if (name === "bare" || name === "tuned") return planBare(workDir, name === "tuned");
  if (name === "partykit") return planPartykit(settings.partykitDir, workDir);
  return planPartyhouse(workDir);
}

async function startServers(settings: Settings, workDir: string, notes: Map<ServerName, string>): Promise<RunningServer[]> {
  const started = await Promise.all(
    settings.servers.map(async (name): Promise<RunningServer | null> => {
      const p = await plan(name, settings, workDir);
      if (!p.ok) {
        notes.set(name, `skipped: ${p.note}`);
        return null;
      }
      try {
        const server = await startServer(p.start);
        log(`started ${SERVER_LABELS[name]} on port ${server.port} (pid ${server.pid})`);
        return server;
      } catch (error) {
        notes.set(name, `skipped: ${(error as Error).message}`);
        return null;
      }
    }),
  );
  return started.filter((s): s is RunningServer => s !== null);
}

async function runScenario(scenario: Scenario, servers: RunningServer[], settings: Settings): Promise<ScenarioRecord> {
  log(`scenario ${scenario.id}: ${scenario.title}`);
  const record: ScenarioRecord = { id: scenario.id, title: scenario.title, metrics: scenario.metrics, servers: {} };
  if (scenario.kind === "memory") {
    // Memory is read per process and does not depend on speed, so the servers are measured at once.
    await Promise.all(
      servers.map(async (server) => {
        try {
          const { metrics, details } = await scenario.measure(server, settings);
          record.servers[server.name] = { median: metrics, details };
          log(`  memory ${server.name}: ${JSON.stringify(metrics)}`);
        } catch (error) {
          record.servers[server.name] = { median: {}, error: (error as Error).message };
          log(`  memory ${server.name} failed: ${(error as Error).message}`);
        }
      }),
    );
    return record;
  }
  const figures = await driveWindows(scenario, servers, settings, log);
  for (const [name, { windows, error }] of figures) {
    const keys = Object.keys(windows[0]?.metrics ?? {});
    const medians = Object.fromEntries(keys.map((k) => [k, median(windows.map((w) => w.metrics[k]))]));
    record.servers[name] = { median: medians, windows, ...(error ? { error } : {}) };
  }
  return record;
}

async function main(): Promise<void> {
  const settings = parseOptions(process.argv.slice(2));
  installExitHandlers();
  const startedAt = new Date();
  const loadAtStart = loadavg()[0]!;
  const workDir = mkdtempSync(join(tmpdir(), "partyhouse-bench-"));
  // Also on Ctrl-C, which exits from the signal handler without reaching `finally`.
  process.once("exit", () => rmSync(workDir, { recursive: true, force: true }));
  const notes = new Map<ServerName, string>();
  const records: ScenarioRecord[] = [];
  const diskSync: DiskSyncLatency[] = [];
  let servers: RunningServer[] = [];
  try {
    servers = await startServers(settings, workDir, notes);
    if (servers.length === 0) throw new Error("no server could be started");
    for (const scenario of SCENARIOS) {
      if (!settings.scenarios.includes(scenario.id)) continue;
      // A server that crashed is left out of the remaining scenarios, with the reason noted.
      for (const server of servers) if (server.exited() && !notes.has(server.name)) notes.set(server.name, `stopped during the run: ${server.exited()}`);
      // partyhouse's durable put follows the disk's sync latency (bare's floor keeps its data in
      // memory): the latency before and after the scenario goes beside the figure.
      if (scenario.id === "put") diskSync.push(await measureDiskSync(workDir));
      records.push(await runScenario(scenario, servers.filter((s) => !s.exited()), settings));
      if (scenario.id === "put") diskSync.push(await measureDiskSync(workDir));
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await stopAll();
    rmSync(workDir, { recursive: true, force: true });
  }

  const table = renderTable(tableRows(records));
  const warned = warnings(records);
  console.log(`\n${settings.quick ? "quick" : "full"} run, ${settings.windows} window(s) of ${settings.windowMs} ms per server, medians (ratios: median of per-round ratios); ↓ = lower is better`);
  // What a pasted table needs beside it: the Node line and how busy the machine was.
  console.log(`${startedAt.toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} CPUs, load average ${loadAtStart.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end\n`);
  console.log(table);
  if (diskSync.length === 2) {
    const [before, after] = diskSync as [DiskSyncLatency, DiskSyncLatency];
    const us = (d: DiskSyncLatency) => `p50 ${Math.round(d.p50Us)} µs, p90 ${Math.round(d.p90Us)} µs`;
    console.log(`\ndisk: a 4 KiB write's fdatasync through the threadpool took ${us(before)} before the put rows, ${us(after)} after`);
  }
  for (const [name, note] of notes) console.log(`\n${SERVER_LABELS[name]}: ${note}`);
  for (const warning of warned) console.log(`warning: ${warning}`);

  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, platform: process.platform };
  const report = { startedAt, finishedAt: new Date(), machine, settings, notes: Object.fromEntries(notes), warnings: warned, diskSync, scenarios: records, table };
  writeFileSync(file, JSON.stringify(report, null, 2));
  console.log(`\nfull results: ${file}`);
}

main().catch(async (error) => {
  console.error(error instanceof Error ? error.stack : error);
  await stopAll();
  process.exit(1);
});
