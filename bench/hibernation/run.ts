// `npm run bench:hibernation`: partyhouse with a hibernating party next to a bare `ws` server, in the
// same run, on 127.0.0.1: memory per idle socket in a hibernated room (1k, 5k, 15k), broadcast
// fan-out in a hibernating room (1k, 10k), wake latency, and heap per idle room. Prints one table of
// figures and partyhouse/bare ratios; everything measured goes to bench/results/hibernation-*.json.
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { installExitHandlers, stopAll } from "../lib/children.js";
import { driveWindows } from "../lib/drive-windows.js";
import { parseOptions, type Settings } from "../lib/options.js";
import { resultsDir } from "../lib/paths.js";
import type { ScenarioRecord } from "../lib/results.js";
import { startServer, type RunningServer, type ServerName } from "../servers/server-handle.js";
import type { WindowedScenario } from "../scenarios/types.js";
import { fanoutInFlight, fanoutRoom, fanoutScenario } from "./fanout.js";
import { idleRoomMemory, type IdleRooms } from "./idle-rooms.js";
import { idleSocketMemory, type IdleMemory } from "./memory.js";
import { parseHibernationOptions, type Figure, type HibernationSettings } from "./options.js";
import { idleRoomRows, memoryNotes, memoryRows, perGibNote, wakeFanoutTargets, wakeTargets, windowedRecord, windowedRows } from "./rows.js";
import { instancesBuilt, openFiles, waitFilesBelow } from "./server-memory.js";
import { bareCommand, partyhouseCommand } from "./servers.js";
import { renderRows, type Row } from "./table.js";
import { wakeScenario } from "./wake.js";
import { WAKE_FANOUT_REST_MS, WAKE_FANOUT_WINDOW_MS, wakeFanoutRoom, wakeFanoutScenario } from "./wake-fanout.js";

const t0 = Date.now();
const log = (line: string) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);

type PerServer<T> = Partial<Record<ServerName, T>>;

interface Report {
  memory: PerServer<IdleMemory>;
  windowed: ScenarioRecord[];
  /** Instances the fan-out room built during its scenario, i.e. how often it woke. */
  fanoutWakes: Record<string, number>;
  rooms: PerServer<IdleRooms>;
  errors: string[];
}

/** The harness's windowed settings with this bench's window count and length. */
function harnessSettings(settings: HibernationSettings): Settings {
  return { ...parseOptions(settings.quick ? ["--quick"] : []), windows: settings.windows, windowMs: settings.windowMs, warmupMs: settings.warmupMs };
}

/** Runs one figure; a failure is noted and the run goes on with the next one. */
async function phase(report: Report, name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    report.errors.push(`${name}: ${message}`);
    log(`${name} failed: ${message}`);
  }
}

/** Sockets of a finished figure are gone before the next one opens its own (20k files per process). */
async function settle(servers: RunningServer[], baseline: Map<RunningServer, number>): Promise<void> {
  await Promise.all(servers.map((s) => waitFilesBelow(s, baseline.get(s)! + 100)));
}

async function windowed(scenario: WindowedScenario, servers: RunningServer[], settings: Settings): Promise<ScenarioRecord> {
  log(`${scenario.id}: ${scenario.title}`);
  const record = windowedRecord(scenario, await driveWindows(scenario, servers, settings, log));
  for (const [name, server] of Object.entries(record.servers)) if (server?.error) throw new Error(`${name}: ${server.error}`);
  return record;
}

async function measure(settings: HibernationSettings, servers: RunningServer[], report: Report): Promise<void> {
  const baseline = new Map(servers.map((s) => [s, openFiles(s)]));
  const partyhouse = servers.find((s) => s.name === "partyhouse")!;
  const windowSettings = harnessSettings(settings);

  const wanted = (figure: Figure) => settings.figures.includes(figure);

  if (wanted("memory")) {
    await phase(report, "memory", async () => {
      log(`memory per idle socket at ${settings.memorySteps.join(", ")} sockets`);
      const results = await Promise.all(servers.map(async (s) => [s.name, await idleSocketMemory(s, settings.memorySteps, log)] as const));
      report.memory = Object.fromEntries(results);
    });
    await settle(servers, baseline);
  }

  for (const sockets of wanted("fanout") ? settings.fanoutSizes : []) {
    await phase(report, `fan-out ${sockets}`, async () => {
      const room = fanoutRoom(sockets);
      const before = await instancesBuilt(partyhouse, room);
      report.windowed.push(await windowed(fanoutScenario(sockets), servers, windowSettings));
      report.fanoutWakes[room] = (await instancesBuilt(partyhouse, room)) - before;
    });
    await settle(servers, baseline);
  }

  if (wanted("wake")) {
    await phase(report, "wake", async () => {
      report.windowed.push(await windowed(wakeScenario(settings), servers, windowSettings));
    });
    await settle(servers, baseline);
  }

  for (const sockets of wanted("wakefanout") ? settings.wakeFanoutSizes : []) {
    await phase(report, `first broadcast after a wake, ${sockets}`, async () => {
      const room = wakeFanoutRoom(sockets);
      const before = await instancesBuilt(partyhouse, room);
      // Longer windows than the others: each holds several rest-wake-broadcast cycles.
      const settingsForWakes = { ...windowSettings, windowMs: Math.max(windowSettings.windowMs, WAKE_FANOUT_WINDOW_MS) };
      report.windowed.push(await windowed(wakeFanoutScenario(sockets), servers, settingsForWakes));
      report.fanoutWakes[room] = (await instancesBuilt(partyhouse, room)) - before;
    });
    await settle(servers, baseline);
  }

  if (wanted("rooms") && settings.idleRooms > 0) {
    await phase(report, "idle rooms", async () => {
      // One server at a time: the readings must come well inside partyhouse's eviction delay.
      for (const server of servers) {
        log(`idle rooms: ${settings.idleRooms} fresh rooms on ${server.name}`);
        report.rooms[server.name] = await idleRoomMemory(server, settings.idleRooms, settings.checkEviction);
      }
    });
  }
}

function rowsOf(report: Report): Row[] {
  const rows = memoryRows(report.memory);
  for (const record of report.windowed) rows.push(...windowedRows(record, record.id === "wake" ? wakeTargets : wakeFanoutTargets(record.id)));
  return [...rows, ...idleRoomRows(report.rooms)];
}

function notesOf(report: Report, settings: HibernationSettings): string[] {
  const notes = memoryNotes(report.memory);
  const perGib = perGibNote(report.memory);
  if (perGib) notes.unshift(perGib);
  for (const sockets of settings.fanoutSizes) {
    const wakes = report.fanoutWakes[fanoutRoom(sockets)];
    if (wakes !== undefined) {
      notes.push(`fan-out ${sockets}: ${fanoutInFlight(sockets)} broadcasts in flight; the room woke ${wakes} times (while its sockets connected, for the warm-up and for ${settings.windows} measured window(s))`);
    }
  }
  for (const sockets of settings.wakeFanoutSizes) {
    const wakes = report.fanoutWakes[wakeFanoutRoom(sockets)];
    const record = report.windowed.find((r) => r.id === `wakefanout${sockets}`);
    if (wakes === undefined || !record) continue;
    const count = (name: "bare" | "partyhouse", key: string) => (record.servers[name]?.windows ?? []).reduce((sum, w) => sum + (w.metrics[`wakefanout${sockets}.${key}`] ?? 0), 0);
    notes.push(
      `first broadcast after a wake, ${sockets}: one broadcast at a time, ${WAKE_FANOUT_REST_MS} ms of rest after each; partyhouse sent ${count("partyhouse", "broadcasts")} in its measured windows and the room woke ${wakes} times ` +
        `(while its sockets connected, for the warm-up and for each broadcast); deliveries missing inside the windows: partyhouse ${count("partyhouse", "missing")}, bare ${count("bare", "missing")}`,
    );
  }
  const wake = report.windowed.find((r) => r.id === "wake")?.servers.partyhouse?.windows ?? [];
  const cold = wake.reduce((sum, w) => sum + (w.metrics["wake.samples"] ?? 0), 0);
  const awake = wake.reduce((sum, w) => sum + (w.metrics["wake.notAsleep"] ?? 0), 0);
  if (wake.length > 0) {
    notes.push(
      `wake: ${cold} samples found the room hibernated (--hibernate-after ${settings.hibernateAfterMs} ms, each of ${settings.wakeRooms} rooms rests ${settings.wakeGapMs} ms), ` +
        `${awake} found it awake and were left out; bare's "hibernated" column is its round trip to a room idle as long`,
    );
  }
  const rooms = report.rooms.partyhouse;
  if (rooms) notes.push(`idle rooms: created in ${rooms.createSeconds.toFixed(1)} s on partyhouse, read before its 15 s eviction; bare never forgets a room`);
  return [...notes, ...report.errors.map((e) => `FAILED ${e}`)];
}

async function main(): Promise<void> {
  const settings = parseHibernationOptions(process.argv.slice(2));
  installExitHandlers();
  const startedAt = new Date();
  const loadAtStart = loadavg()[0]!;
  const workDir = mkdtempSync(join(tmpdir(), "partyhouse-bench-hibernation-"));
  // Also on Ctrl-C, which exits from the signal handler without reaching `finally`.
  process.once("exit", () => rmSync(workDir, { recursive: true, force: true }));
  const report: Report = { memory: {}, windowed: [], fanoutWakes: {}, rooms: {}, errors: [] };
  let servers: RunningServer[] = [];
  try {
    servers = await Promise.all([
      startServer(await bareCommand(workDir)),
      startServer(partyhouseCommand(workDir, settings.hibernateAfterMs)),
    ]);
    for (const s of servers) log(`started ${s.name} on port ${s.port} (pid ${s.pid})`);
    await measure(settings, servers, report);
    for (const s of servers) if (s.exited()) report.errors.push(`${s.name} stopped during the run: ${s.exited()}`);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await stopAll();
    rmSync(workDir, { recursive: true, force: true });
  }

  const table = renderRows(rowsOf(report));
  const notes = notesOf(report, settings);
  console.log(`\n${settings.quick ? "quick" : "full"} run, ${settings.windows} window(s) of ${settings.windowMs} ms per server for windowed figures (${WAKE_FANOUT_WINDOW_MS} ms for the first broadcast after a wake; medians; ratios: median of per-round ratios); ↓ = lower is better`);
  // What a pasted table needs beside it: the Node line and how busy the machine was.
  console.log(`${startedAt.toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} CPUs, load average ${loadAtStart.toFixed(1)} at start, ${loadavg()[0]!.toFixed(1)} at end\n`);
  console.log(table);
  console.log("");
  for (const note of notes) console.log(`- ${note}`);

  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `hibernation-${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, platform: process.platform };
  writeFileSync(file, JSON.stringify({ startedAt, finishedAt: new Date(), machine, settings, ...report, notes, table }, null, 2));
  console.log(`\nfull results: ${file}`);
  if (report.errors.length > 0) process.exitCode = 1;
}

main().catch(async (error) => {
  console.error(error instanceof Error ? error.stack : error);
  await stopAll();
  process.exit(1);
});
