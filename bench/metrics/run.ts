// What metrics cost: partyhouse with metrics off vs on (admin listener, /metrics scraped every
// second, far more often than Prometheus' usual 15 s), in one run, taking turns window by window
// with the same load processes as `npm run bench`. Prints HTTP and fan-out throughput and the
// median of per-window ratios on/off.
//   node --import tsx bench/metrics/run.ts [--windows <n>] [--window-ms <ms>]
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { driveWindows } from "../lib/drive-windows.js";
import { freePort } from "../lib/free-port.js";
import { installExitHandlers, stopAll } from "../lib/children.js";
import { parseOptions } from "../lib/options.js";
import { median, quantile } from "../lib/stats.js";
import { fanout } from "../scenarios/fanout.js";
import { httpOneRoom } from "../scenarios/http.js";
import type { WindowedScenario } from "../scenarios/types.js";
import { startServer, type RunningServer } from "../servers/server-handle.js";
import { planPartyhouse } from "../servers/targets.js";

const settings = parseOptions(process.argv.slice(2));
const log = (line: string) => process.stderr.write(line + "\n");
installExitHandlers();
const workDir = mkdtempSync(join(tmpdir(), "partyhouse-metrics-bench-"));

async function start(metrics: boolean): Promise<{ server: RunningServer; adminPort?: number }> {
  const dir = join(workDir, metrics ? "on" : "off");
  mkdirSync(dir, { recursive: true });
  const plan = planPartyhouse(dir);
  if (!plan.ok) throw new Error(plan.note);
  if (!metrics) return { server: await startServer(plan.start) };
  const adminPort = await freePort();
  const server = await startServer({ ...plan.start, name: "partyhouse-metrics", args: [...plan.start.args, "--admin-port", String(adminPort)] });
  return { server, adminPort };
}

const off = await start(false);
const on = await start(true);
// Scrape like a (very eager) Prometheus would, for the whole run.
let scrapes = 0;
const scraper = setInterval(() => {
  fetch(`http://127.0.0.1:${on.adminPort}/metrics`)
    .then((response) => response.text())
    .then(() => scrapes++, () => undefined);
}, 1000);

const rows: string[] = [];
try {
  const scenarios: Array<[WindowedScenario, string, string]> = [
    [httpOneRoom, httpOneRoom.metrics[0]!.key, "HTTP requests/s, one room"],
    [fanout, fanout.metrics[0]!.key, `fan-out deliveries/s (${settings.fanoutSockets} sockets)`],
  ];
  for (const [scenario, key, label] of scenarios) {
    log(`scenario ${scenario.id}`);
    const results = await driveWindows(scenario, [off.server, on.server], settings, log);
    const offWindows = results.get("partyhouse")!.windows.map((w) => w.metrics[key]!);
    const onWindows = results.get("partyhouse-metrics")!.windows.map((w) => w.metrics[key]!);
    const ratios = onWindows.map((value, i) => value / offWindows[i]!).filter(Number.isFinite);
    const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
    rows.push(
      `| ${label} | ${fmt(median(offWindows))} | ${fmt(median(onWindows))} | ${median(ratios).toFixed(3)}x (${quantile(ratios, 0.25).toFixed(2)}–${quantile(ratios, 0.75).toFixed(2)}) | ≥ 0.95x ${median(ratios) >= 0.95 ? "ok" : "MISSED"} |`,
    );
  }
} finally {
  clearInterval(scraper);
  await stopAll();
  rmSync(workDir, { recursive: true, force: true });
}
console.log(`\n${settings.windows} windows of ${settings.windowMs} ms per server; ${scrapes} scrapes of /metrics during the run\n`);
console.log("| scenario | metrics off | metrics on | on/off (IQR) | target |");
console.log("|:--|--:|--:|--:|:--|");
for (const row of rows) console.log(row);
