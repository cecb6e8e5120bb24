// How a scenario is described to the runner. Windowed scenarios only say which load processes to
// start and how to turn a window's results into metrics; drive-windows.ts does the timing, the
// interleaving of servers and the repeats, identically for all of them.
import type { RunningServer } from "../servers/server-handle.js";
import type { Settings } from "../lib/options.js";
import type { WindowResult } from "../lib/load-protocol.js";

export interface MetricSpec {
  key: string;
  /** Row label in the table. */
  label: string;
  unit: "/s" | "ms" | "KiB" | "µs";
  better: "higher" | "lower";
  /** Required partyhouse/bare ratio (a floor when higher is better, a ceiling when lower is). */
  target?: number;
  /** The target holds against the tuned server instead of bare, when the run started it. */
  floor?: "tuned";
}

export interface LoadSpec {
  role: string;
  script: string;
  params: Record<string, unknown>;
}

export interface LoadResult {
  role: string;
  result: WindowResult;
}

/** Diagnostics kept in the JSON: how busy the load processes were, so a load-bound run shows. */
export interface WindowFigures {
  metrics: Record<string, number>;
  /** CPU of the busiest load process as a share of one core; near 1 means the load was the limit. */
  loadCpuMax: number;
  /** Cores' worth of CPU the server's process tree used during the window. */
  serverCpu: number;
  errors: number;
}

export interface WindowedScenario {
  kind: "windowed";
  id: string;
  title: string;
  metrics: MetricSpec[];
  /** Load processes for one server in start order; the processes of one inner list start together. */
  loads(server: RunningServer, settings: Settings): LoadSpec[][];
  summarize(results: LoadResult[], windowSeconds: number, serverCpuSeconds: number): Record<string, number>;
}

export interface MemoryScenario {
  kind: "memory";
  id: string;
  title: string;
  metrics: MetricSpec[];
  /** Measures one server on its own; returns metrics (NaN where the server cannot tell). */
  measure(server: RunningServer, settings: Settings): Promise<{ metrics: Record<string, number>; details: unknown }>;
}

export type Scenario = WindowedScenario | MemoryScenario;
