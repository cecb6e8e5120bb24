// Runs a windowed scenario against every server with identical load: start each server's load
// processes, warm each server up, then measure windows with the servers taking turns (rotating the
// order each round) so that drift on a shared machine hits them all alike.
import { LoadProcess } from "./load-process.js";
import { nowUs, sleep, sleepUntil } from "./clock.js";
import { cpuSeconds } from "./proc-stats.js";
import type { Settings } from "./options.js";
import type { RunningServer, ServerName } from "../servers/server-handle.js";
import type { LoadResult, WindowFigures, WindowedScenario } from "../scenarios/types.js";

/** Lead time so every load process has the window before it starts. */
const LEAD_US = 100_000;
const SETTLE_MS = 50;

interface StartedLoad {
  role: string;
  process: LoadProcess;
}

/** Per server: its windows in round order, or why it dropped out (the others carry on). */
export interface ServerWindows {
  windows: WindowFigures[];
  error?: string;
}

export async function driveWindows(
  scenario: WindowedScenario,
  servers: RunningServer[],
  settings: Settings,
  log: (line: string) => void,
): Promise<Map<ServerName, ServerWindows>> {
  const loads = new Map<ServerName, StartedLoad[]>();
  const out = new Map<ServerName, ServerWindows>(servers.map((s) => [s.name, { windows: [] }]));
  const fail = (server: RunningServer, error: unknown) => {
    const message = error instanceof Error ? error.message : String(error);
    out.get(server.name)!.error = message;
    log(`  ${scenario.id} ${server.name} failed: ${message}`);
  };
  const healthy = () => servers.filter((s) => !out.get(s.name)!.error);
  try {
    // Connecting is not measured, so servers get their load processes at the same time.
    await Promise.all(servers.map((server) => startLoads(scenario, server, settings, loads).catch((e) => fail(server, e))));
    log(`  ${scenario.id}: load connected`);
    // Warm-up (JIT, buffers, lazily created state) is not measured either, so it runs on all at once.
    await Promise.all(
      healthy().map((server) => runWindow(scenario, server, loads.get(server.name)!, settings.warmupMs).catch((e) => fail(server, e))),
    );
    log(`  ${scenario.id}: warmed up`);
    for (let round = 0; round < settings.windows; round++) {
      for (const server of rotate(healthy(), round)) {
        await sleep(SETTLE_MS);
        try {
          const window = await runWindow(scenario, server, loads.get(server.name)!, settings.windowMs);
          out.get(server.name)!.windows.push(window);
          log(`  ${scenario.id} ${server.name} window ${round + 1}: ${describe(window)}`);
        } catch (error) {
          fail(server, error);
        }
      }
    }
    return out;
  } finally {
    await Promise.all([...loads.values()].flat().map((l) => l.process.stop()));
  }
}

async function startLoads(
  scenario: WindowedScenario,
  server: RunningServer,
  settings: Settings,
  registry: Map<ServerName, StartedLoad[]>,
): Promise<StartedLoad[]> {
  const started: StartedLoad[] = [];
  // Registered as they start so a failure half way still stops the ones already running.
  registry.set(server.name, started);
  for (const group of scenario.loads(server, settings)) {
    const batch = await Promise.all(
      group.map(async (spec, i) => ({
        role: spec.role,
        process: await LoadProcess.start(`${scenario.id} ${server.name} ${spec.role} ${i}`, spec.script, spec.params),
      })),
    );
    started.push(...batch);
  }
  return started;
}

async function runWindow(scenario: WindowedScenario, server: RunningServer, loads: StartedLoad[], ms: number): Promise<WindowFigures> {
  const startUs = nowUs() + LEAD_US;
  const endUs = startUs + ms * 1000;
  const pids = server.tree();
  // Server CPU is sampled from outside; the sampling moments are recorded and the rate rescaled to
  // the window, since this runner's timers can fire a little late on a busy machine.
  const sample = async (atUs: number) => {
    await sleepUntil(atUs);
    return { at: nowUs(), cpu: cpuSeconds(pids) };
  };
  const [first, last, results] = await Promise.all([
    sample(startUs),
    sample(endUs),
    Promise.all(loads.map(async (l): Promise<LoadResult> => ({ role: l.role, result: await l.process.window({ startUs, endUs }) }))),
  ]);
  const seconds = ms / 1000;
  const serverCpu = ((last.cpu - first.cpu) / Math.max(1, last.at - first.at)) * 1e6 * seconds;
  return {
    metrics: scenario.summarize(results, seconds, serverCpu),
    loadCpuMax: Math.max(...results.map((r) => r.result.cpuSeconds)) / seconds,
    errors: results.reduce((sum, r) => sum + r.result.errors, 0),
    serverCpu: serverCpu / seconds,
  };
}

function rotate<T>(items: T[], by: number): T[] {
  const k = items.length ? by % items.length : 0;
  return [...items.slice(k), ...items.slice(0, k)];
}

function describe(window: WindowFigures): string {
  const main = Object.entries(window.metrics)
    .map(([k, v]) => `${k}=${Number.isFinite(v) ? (Math.abs(v) >= 100 ? Math.round(v) : v.toFixed(2)) : "n/a"}`)
    .join(" ");
  return `${main} serverCpu=${window.serverCpu.toFixed(2)} loadCpuMax=${window.loadCpuMax.toFixed(2)} errors=${window.errors}`;
}
