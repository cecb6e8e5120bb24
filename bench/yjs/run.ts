// `npm run bench:yjs`: partyhouse/yjs (YServer, hibernating) next to y-partykit's own server on
// partyhouse (the baseline), in the same run on 127.0.0.1: memory per idle connected editor, time to
// get a 1 MB / 10 MB document that is not in memory, and update fan-out to 100 / 1,000 editors.
// Prints one table (ratios partyhouse/yjs ÷ y-partykit); everything measured goes to
// bench/results/yjs-<timestamp>.json (git-ignored).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import { installExitHandlers, stopAll } from "../lib/children.js";
import { resultsDir } from "../lib/paths.js";
import { median, quantile } from "../lib/stats.js";
import { fanoutRounds, type FanoutRound } from "./fanout.js";
import { idleEditorMemory, type MemoryResult } from "./memory.js";
import { oneDocumentMemory, type OneDocResult } from "./one-doc.js";
import { parseYBenchOptions, type YBenchSettings } from "./options.js";
import { startYServer, type YBenchServer, type YServerName } from "./servers.js";
import { wakeTimes, type WakeResult } from "./wake.js";

const t0 = Date.now();
const log = (line: string) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);

interface Report {
  oneDoc: Partial<Record<YServerName, OneDocResult>>;
  memory: Partial<Record<YServerName, MemoryResult>>;
  wake: Partial<Record<YServerName, WakeResult[]>>;
  fanout: Record<number, FanoutRound[]>;
  errors: string[];
}

async function phase(report: Report, name: string, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    report.errors.push(`${name}: ${message.split("\n")[0]}`);
    log(`${name} failed: ${message}`);
  }
}

async function measure(settings: YBenchSettings, servers: YBenchServer[], report: Report): Promise<void> {
  if (settings.figures.includes("onedoc")) {
    for (const server of servers) {
      await phase(report, `one document ${server.name}`, async () => {
        log(`one document: ${settings.oneDocEditors.join(", then ")} YPartyKitProvider editors on ${server.name}`);
        report.oneDoc[server.name] = await oneDocumentMemory(server, settings, log);
      });
    }
  }
  if (settings.figures.includes("memory")) {
    await phase(report, "memory", async () => {
      log(`memory: ${settings.docs} documents × ${settings.editorsPerDoc} idle editors per server`);
      const results = await Promise.all(servers.map(async (s) => [s.name, await idleEditorMemory(s, settings, log)] as const));
      report.memory = Object.fromEntries(results);
    });
  }
  if (settings.figures.includes("wake")) {
    for (const server of servers) {
      for (const size of settings.wakeSizes) {
        await phase(report, `wake ${server.name} ${size} MB`, async () => {
          (report.wake[server.name] ??= []).push(await wakeTimes(server, size, settings, log));
        });
      }
    }
  }
  if (settings.figures.includes("fanout")) {
    for (const editors of settings.fanoutSizes) {
      await phase(report, `fan-out ${editors}`, async () => {
        report.fanout[editors] = await fanoutRounds(servers, editors, settings, log);
      });
    }
  }
}

// ---- the table ----------------------------------------------------------------------------------

interface Row {
  label: string;
  baseline: string;
  yjs: string;
  ratio: string;
  target: string;
}

const kib = (bytes: number) => (bytes / 1024).toFixed(2);
const ms = (value: number) => (value >= 100 ? value.toFixed(0) : value.toFixed(2));
const x = (value: number) => (Number.isFinite(value) ? `${value < 0.1 ? value.toFixed(3) : value.toFixed(2)}x` : "n/a");
const count = (value: number) => Math.round(value).toLocaleString("en-US");

/** Issue 23's scenario: per editor at each step ((reading − no editors) / editors) and the slope. */
function oneDocRows(report: Report): Row[] {
  const base = report.oneDoc["y-partykit"];
  const yjs = report.oneDoc["partyhouse/yjs"];
  if (!base || !yjs) return [];
  const rows: Row[] = [];
  const pair = (label: string, b: number, y: number, target: boolean) => {
    const ratio = y / b;
    rows.push({ label, baseline: kib(b), yjs: kib(y), ratio: x(ratio), target: target ? `≤ 0.5x ${ratio <= 0.5 ? "ok" : "MISS"}` : "" });
  };
  yjs.steps.forEach((step, i) => {
    const other = base.steps[i];
    if (!other || other.editors !== step.editors) return;
    const n = count(step.editors);
    pair(`RSS per idle editor, ${n} on one document (KiB) ↓`, other.rssPerEditor, step.rssPerEditor, true);
    pair(`V8 heap per idle editor, ${n} on one document (KiB) ↓`, other.heapPerEditor, step.heapPerEditor, false);
    const messages = (label: string, b: number, y: number) => rows.push({ label, baseline: count(b), yjs: count(y), ratio: x(y / b), target: "" });
    messages(`messages received by the server per 15 s idle, ${n} on one document ↓`, other.idleMessagesPer15s.in, step.idleMessagesPer15s.in);
    messages(`messages sent by the server per 15 s idle, ${n} on one document ↓`, other.idleMessagesPer15s.out, step.idleMessagesPer15s.out);
  });
  pair("RSS slope per added editor, one document (KiB) ↓", base.rssSlope, yjs.rssSlope, true);
  pair("V8 heap slope per added editor, one document (KiB) ↓", base.heapSlope, yjs.heapSlope, false);
  return rows;
}

function memoryRows(report: Report): Row[] {
  const base = report.memory["y-partykit"];
  const yjs = report.memory["partyhouse/yjs"];
  if (!base || !yjs) return [];
  // RSS is what an operator pays; the V8 heap is beside it, since most of the cost can sit outside
  // the heap (socket buffers, allocator arenas) where a heap figure alone does not see it (issue 23).
  const rss = yjs.rssPerEditor / base.rssPerEditor;
  return [
    { label: `RSS per idle editor, ${count(yjs.editors)} on ${count(yjs.editors / 5)} documents (KiB) ↓`, baseline: kib(base.rssPerEditor), yjs: kib(yjs.rssPerEditor), ratio: x(rss), target: `≤ 0.5x ${rss <= 0.5 ? "ok" : "MISS"}` },
    { label: `V8 heap per idle editor, ${count(yjs.editors)} on ${count(yjs.editors / 5)} documents (KiB) ↓`, baseline: kib(base.heapPerEditor), yjs: kib(yjs.heapPerEditor), ratio: x(yjs.heapPerEditor / base.heapPerEditor), target: "" },
  ];
}

function wakeRows(report: Report): Row[] {
  const rows: Row[] = [];
  const base = report.wake["y-partykit"] ?? [];
  const yjs = report.wake["partyhouse/yjs"] ?? [];
  for (const result of yjs) {
    const other = base.find((r) => r.sizeMB === result.sizeMB);
    const baseOpen = other ? median(other.open) : NaN;
    if (result.wake) {
      const wake = median(result.wake);
      rows.push({ label: `wake a hibernated ${result.sizeMB} MB document, p50 (ms) ↓`, baseline: `${ms(baseOpen)} (open)`, yjs: ms(wake), ratio: x(wake / baseOpen), target: "" });
    }
    const open = median(result.open);
    rows.push({ label: `open a ${result.sizeMB} MB document not in memory, p50 (ms) ↓`, baseline: ms(baseOpen), yjs: ms(open), ratio: x(open / baseOpen), target: "" });
  }
  return rows;
}

function fanoutRows(report: Report): Row[] {
  const rows: Row[] = [];
  for (const [editors, rounds] of Object.entries(report.fanout)) {
    const of = (name: YServerName) => rounds.filter((r) => r.server === name);
    const base = of("y-partykit");
    const yjs = of("partyhouse/yjs");
    const ratios = yjs.map((r, i) => r.deliveriesPerSecond / (base[i]?.deliveriesPerSecond ?? NaN));
    const rate = (list: FanoutRound[]) => median(list.map((r) => r.deliveriesPerSecond));
    const latencies = (list: FanoutRound[]) => list.flatMap((r) => r.latencies);
    const [bl, yl] = [latencies(base), latencies(yjs)];
    const iqr = `${x(quantile(ratios, 0.25))}–${x(quantile(ratios, 0.75))}`;
    rows.push({ label: `fan-out deliveries/s, ${count(Number(editors))} editors`, baseline: count(rate(base)), yjs: count(rate(yjs)), ratio: `${x(median(ratios))} (${iqr})`, target: "" });
    rows.push({
      label: `fan-out latency p50 / p99 (ms), ${count(Number(editors))} editors ↓`,
      baseline: `${ms(quantile(bl, 0.5))} / ${ms(quantile(bl, 0.99))}`,
      yjs: `${ms(quantile(yl, 0.5))} / ${ms(quantile(yl, 0.99))}`,
      ratio: `${x(quantile(yl, 0.5) / quantile(bl, 0.5))} / ${x(quantile(yl, 0.99) / quantile(bl, 0.99))}`,
      target: "",
    });
  }
  return rows;
}

function render(rows: Row[]): string {
  const lines = ["| figure | y-partykit | partyhouse/yjs | partyhouse/yjs ÷ y-partykit | target |", "|:--|--:|--:|--:|:--|"];
  for (const r of rows) lines.push(`| ${r.label} | ${r.baseline} | ${r.yjs} | ${r.ratio} | ${r.target} |`);
  return lines.join("\n");
}

function notes(report: Report, settings: YBenchSettings): string[] {
  const out: string[] = [];
  for (const [name, result] of Object.entries(report.oneDoc)) {
    if (!result) continue;
    const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
    const readings = [`0: ${mib(result.before.rss)} / ${mib(result.before.heapUsed)}`, ...result.steps.map((s) => `${s.editors}: ${mib(s.memory.rss)} / ${mib(s.memory.heapUsed)} (live ${s.memory.live.instances} instances, ${s.memory.live.docs} Y.Docs)`)];
    out.push(`one document, ${name}: YPartyKitProvider editors (awareness renewed every 15 s by the provider), one ${result.editBytes}-byte edit, read after ${result.settleMs / 1000} s idle; editors: RSS / heap used (MiB): ${readings.join(", ")}`);
  }
  const yjs = report.memory["partyhouse/yjs"];
  const base = report.memory["y-partykit"];
  if (yjs && base) {
    out.push(
      `memory: ${yjs.editors} editors on ${settings.docs} documents of ${(yjs.docBytes / 1024).toFixed(0)} KiB state (${settings.docUpdates} typed inserts of ${settings.docChunk} characters, some deletions), ` +
        `awareness renewed every ${settings.renewMs / 1000} s as providers do, read after ${settings.settleMs / 1000} s idle at each step; ` +
        `live after GC: partyhouse/yjs ${yjs.after.live.instances} room instances and ${yjs.after.live.docs} Y.Docs, y-partykit ${base.after.live.instances} instances and ${base.after.live.docs} Y.Docs`,
    );
    // The readings behind the slopes, so a step that moved oddly can be seen.
    const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
    const steps = (result: MemoryResult) =>
      result.readings.map(({ editors, memory: m }) => `${editors}: ${mib(m.rss)} / ${mib(m.heapUsed)} / ${mib(m.heapTotal)} / ${mib(m.external)}`).join(", ");
    out.push(`memory readings, editors: RSS / heap used / heap total / external (MiB): partyhouse/yjs ${steps(yjs)}; y-partykit ${steps(base)}`);
  }
  for (const [name, results] of Object.entries(report.wake)) {
    for (const result of results ?? []) {
      out.push(`${name}, ${result.sizeMB} MB: probing with fresh connections (2.5 s apart, then backing off), the whole document was served ${result.persistedAfterSeconds.toFixed(1)} s after the writer's last acknowledged update; ${result.short} timed sample(s) got less than the whole document`);
    }
  }
  for (const result of report.wake["partyhouse/yjs"] ?? []) {
    if (result.wake) out.push(`wake ${result.sizeMB} MB (${(result.stateBytes / 1e6).toFixed(1)} MB state): ${result.wakes} wakes for ${result.wake.length} samples (each after ${settings.hibernateAfterMs + 700} ms idle, --hibernate-after ${settings.hibernateAfterMs}); y-partykit has no hibernation, so its column is a fresh connection to the document after the last one left`);
  }
  if (Object.keys(report.fanout).length > 0) {
    out.push(`fan-out: ${settings.rounds} rounds of ${settings.windowMs} ms per server, ${settings.inFlight} updates in flight, each update one Y.Array push (~40 B); y-partykit also echoes each update to its sender (not counted)`);
  }
  return [...out, ...report.errors.map((e) => `FAILED ${e}`)];
}

async function main(): Promise<void> {
  const settings = parseYBenchOptions(process.argv.slice(2));
  installExitHandlers();
  const startedAt = new Date();
  const workDir = mkdtempSync(join(tmpdir(), "partyhouse-bench-yjs-"));
  process.once("exit", () => rmSync(workDir, { recursive: true, force: true }));
  const report: Report = { oneDoc: {}, memory: {}, wake: {}, fanout: {}, errors: [] };
  let servers: YBenchServer[] = [];
  try {
    servers = await Promise.all([startYServer("y-partykit", workDir, settings.hibernateAfterMs), startYServer("partyhouse/yjs", workDir, settings.hibernateAfterMs)]);
    for (const s of servers) log(`started ${s.name} on port ${s.port} (pid ${s.pid})`);
    await measure(settings, servers, report);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await stopAll();
  }
  const table = render([...oneDocRows(report), ...memoryRows(report), ...wakeRows(report), ...fanoutRows(report)]);
  const noteLines = notes(report, settings);
  console.log(`\n${settings.quick ? "quick" : "full"} run (medians; fan-out ratio: median of per-round ratios, IQR in parentheses); ↓ = lower is better\n`);
  console.log(table);
  console.log("");
  for (const note of noteLines) console.log(`- ${note}`);
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `yjs-${startedAt.toISOString().replace(/[:.]/g, "-")}.json`);
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version };
  writeFileSync(file, JSON.stringify({ startedAt, finishedAt: new Date(), machine, settings, ...report, notes: noteLines, table }, null, 2));
  console.log(`\nfull results: ${file}`);
  if (report.errors.length > 0) process.exitCode = 1;
}

main().catch(async (error) => {
  console.error(error instanceof Error ? error.stack : error);
  await stopAll();
  process.exit(1);
});
