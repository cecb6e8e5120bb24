// Helpers scenarios use to turn load results into metrics.
import { Histogram } from "../lib/histogram.js";
import type { LoadResult } from "./types.js";

export function totalOps(results: LoadResult[], role?: string): number {
  return results.filter((r) => !role || r.role === role).reduce((sum, r) => sum + r.result.ops, 0);
}

/** All latency samples of the matching loads in one histogram. */
export function mergedLatency(results: LoadResult[], role?: string): Histogram {
  const histogram = new Histogram();
  for (const r of results) if (!role || r.role === role) histogram.merge(r.result.latency);
  return histogram;
}

/** Server CPU microseconds per operation; NaN when nothing completed. */
export function cpuPerOp(serverCpuSeconds: number, ops: number): number {
  return ops > 0 ? (serverCpuSeconds * 1e6) / ops : NaN;
}
