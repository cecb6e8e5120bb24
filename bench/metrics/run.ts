// What metrics cost: partyhouse with metrics off vs on (admin listener, /metrics scraped every
// second, far more often than Prometheus' usual 15 s), in one run, taking turns window by window
// with the same load processes as `npm run bench`. Prints HTTP and fan-out throughput and the
// median of per-window ratios on/off.
//
// The windows are split over several sessions, each with a fresh pair of server processes
// (started in alternating order). A process can settle into a slower steady state than another
// running the same code: a long-lived Set churned per request once got every request promoted
// when its table happened to reach the old generation during start-up (README, "What metrics
// cost"), and about 1 in 4 fan-out servers still promotes ~420 KB per scavenge where its pair
// promotes ~5 KB, metrics on or off (not explained yet: at 16 MB semi-spaces what got promoted
// was socket write requests and Node's stream buffer entries, though no socket had bytes left
// to write when sampled between turns).
// One pair measures one draw of that as much as the metrics; fresh pairs average it in.
//   node --import tsx bench/metrics/run.ts [--windows <n>] [--window-ms <ms>] [--sessions <n>]
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { driveWindows } from "../lib/drive-windows.js";
import { freePort } from "../lib/free-port.js";
import { installExitHandlers, stopAll } from "../lib/children.js";
import { parseOptions, readFlags } from "../lib/options.js";
import { median, quantile } from "../lib/stats.js";
import { fanout } from "../scenarios/fanout.js";
import { httpOneRoom } from "../scenarios/http.js";
import type { WindowedScenario } from "../scenarios/types.js";
import { startServer, type RunningServer } from "../servers/server-handle.js";
import { planPartyhouse } from "../servers/targets.js";

const USAGE = "usage: node --import tsx bench/metrics/run.ts [--windows <n>] [--window-ms <ms>] [--sessions <n>] [--scrape-ms <ms, 0 = none>]";
const argv = process.argv.slice(2);
const flags = readFlags(argv, USAGE);
const sessions = Number(flags.get("sessions") ?? 3);
const scrapeMs = Number(flags.get("scrape-ms") ?? 1000);
if (!Number.isFinite(scrapeMs) || scrapeMs < 0) throw new Error(`--scrape-ms must be a number of milliseconds >= 0\n${USAGE}`);
if (!Number.isInteger(sessions) || sessions < 1) throw new Error(`--sessions must be a whole number >= 1\n${USAGE}`);
// The shared flags (--windows, --window-ms); parseOptions leaves --sessions alone.
const settings = parseOptions(argv);
const log = (line: string) => process.stderr.write(line + "\n");
installExitHandlers();
const workDir = mkdtempSync(join(tmpdir(), "partyhouse-metrics-bench-"));

async function start(metrics: boolean, session: number): Promise<{ server: RunningServer; adminPort?: number }> {
  const dir = join(workDir, `${session}-${metrics ? "on" : "off"}`);
  mkdirSync(dir, { recursive: true });
  const plan = planPartyhouse(dir);
  if (!plan.ok) throw new Error(plan.note);
  if (!metrics) return { server: await startServer(plan.start) };
  const adminPort = await freePort();
  const server = await startServer({ ...plan.start, name: "partyhouse-metrics", args: [...plan.start.args, "--admin-port", String(adminPort)] });
  return { server, adminPort };
}

interface Pair {
  off: RunningServer;
  on: RunningServer;
  stop(): Promise<void>;
}

let scrapes = 0;

/** A fresh pair of servers, the metrics one scraped like a (very eager) Prometheus would. */
async function startPair(session: number): Promise<Pair> {
  // Alternate which starts first, so neither side always gets the quieter start.
  const [first, second] = session % 2 === 0 ? [false, true] : [true, false];
  const a = await start(first, session);
  const b = await start(second, session);
  const [off, on] = first ? [b, a] : [a, b];
  const scraper = scrapeMs === 0 ? undefined : setInterval(() => {
    fetch(`http://127.0.0.1:${on.adminPort}/metrics`)
      .then((response) => response.text())
      .then(() => scrapes++, () => undefined);
  }, scrapeMs);
  return {
    off: off.server,
    on: on.server,
    async stop() {
      clearInterval(scraper);
      await Promise.all([off.server.stop(), on.server.stop()]);
    },
  };
}

type Row = { scenario: WindowedScenario; key: string; label: string; off: number[]; on: number[] };
const rows: Row[] = [
  { scenario: httpOneRoom, key: httpOneRoom.metrics[0]!.key, label: "HTTP requests/s, one room", off: [], on: [] },
  { scenario: fanout, key: fanout.metrics[0]!.key, label: `fan-out deliveries/s (${settings.fanoutSockets} sockets)`, off: [], on: [] },
];
// The windows are shared out over the sessions; every session runs every scenario.
const perSession = (session: number) => Math.floor(settings.windows / sessions) + (session < settings.windows % sessions ? 1 : 0);

try {
  for (let session = 0; session < sessions; session++) {
    const windows = perSession(session);
    if (windows === 0) continue;
    log(`session ${session + 1} of ${sessions}: fresh servers, ${windows} windows`);
    const pair = await startPair(session);
    try {
      for (const row of rows) {
        log(`scenario ${row.scenario.id}`);
        const results = await driveWindows(row.scenario, [pair.off, pair.on], { ...settings, windows }, log);
        // Windows stay paired by round: window i of each server ran back to back.
        row.off.push(...results.get("partyhouse")!.windows.map((w) => w.metrics[row.key]!));
        row.on.push(...results.get("partyhouse-metrics")!.windows.map((w) => w.metrics[row.key]!));
      }
    } finally {
      await pair.stop();
    }
  }
} finally {
  await stopAll();
  rmSync(workDir, { recursive: true, force: true });
}
const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
console.log(
  `\n${settings.windows} windows of ${settings.windowMs} ms per server over ${sessions} session(s) of fresh servers; ${scrapes} scrapes of /metrics during the run\n`,
);
console.log("| scenario | metrics off | metrics on | on/off (IQR) | target |");
console.log("|:--|--:|--:|--:|:--|");
for (const row of rows) {
  const ratios = row.on.map((value, i) => value / row.off[i]!).filter(Number.isFinite);
  const ratio = median(ratios);
  console.log(
    `| ${row.label} | ${fmt(median(row.off))} | ${fmt(median(row.on))} | ${ratio.toFixed(3)}x (${quantile(ratios, 0.25).toFixed(2)}–${quantile(ratios, 0.75).toFixed(2)}) | ≥ 0.95x ${ratio >= 0.95 ? "ok" : "MISSED"} |`,
  );
}
