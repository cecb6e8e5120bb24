// What a run keeps per scenario and server, and how that becomes table rows and warnings.
import { median, quantile } from "./stats.js";
import type { TableRow } from "./table.js";
import type { Scenario, WindowFigures } from "../scenarios/types.js";
import type { ServerName } from "../servers/server-handle.js";

export interface ServerRecord {
  median: Record<string, number>;
  /** Windowed scenarios: every measured window, in round order (window i of each server ran in round i). */
  windows?: WindowFigures[];
  details?: unknown;
  error?: string;
}

export interface ScenarioRecord {
  id: string;
  title: string;
  metrics: Scenario["metrics"];
  servers: Partial<Record<ServerName, ServerRecord>>;
}

/** A ratio and, when it comes from several rounds, the quartiles of the per-round ratios. */
export interface Ratio {
  value: number;
  q1?: number;
  q3?: number;
}

/**
 * partyhouse's ratio to another server. With windows, the median of per-round ratios: the two
 * windows of a round ran back to back, so a slow second on the machine cancels out of each ratio.
 */
export function pairedRatio(record: ScenarioRecord, key: string, other: ServerName): Ratio | undefined {
  const mine = record.servers.partyhouse;
  const theirs = record.servers[other];
  if (!mine || !theirs) return undefined;
  if (!mine.windows || !theirs.windows) {
    const [a, b] = [mine.median[key], theirs.median[key]];
    return { value: a !== undefined && b !== undefined && b > 0 ? a / b : NaN };
  }
  const rounds = Math.min(mine.windows.length, theirs.windows.length);
  const ratios: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const [a, b] = [mine.windows[i].metrics[key], theirs.windows[i].metrics[key]];
    if (b > 0 && Number.isFinite(a)) ratios.push(a / b);
  }
  if (ratios.length < 4) return { value: median(ratios) };
  return { value: median(ratios), q1: quantile(ratios, 0.25), q3: quantile(ratios, 0.75) };
}

export function tableRows(records: ScenarioRecord[]): TableRow[] {
  return records.flatMap((record) =>
    record.metrics.map((metric) => ({
      metric,
      values: Object.fromEntries(
        Object.entries(record.servers).map(([name, result]) => [name, result?.median[metric.key] ?? NaN]),
      ) as TableRow["values"],
      toBare: pairedRatio(record, metric.key, "bare"),
      toTuned: pairedRatio(record, metric.key, "tuned"),
      toPartykit: pairedRatio(record, metric.key, "partykit"),
    })),
  );
}

/** Warnings a reader needs before trusting the ratios. */
export function warnings(records: ScenarioRecord[]): string[] {
  const out: string[] = [];
  for (const record of records) {
    for (const [name, result] of Object.entries(record.servers)) {
      if (result?.error) out.push(`${record.id} on ${name} failed: ${result.error}`);
      for (const window of result?.windows ?? []) {
        if (window.loadCpuMax > 0.9) out.push(`${record.id} on ${name}: a load process used ${(window.loadCpuMax * 100).toFixed(0)}% of a core — the load may have been the limit`);
        if (window.errors > 0) out.push(`${record.id} on ${name}: ${window.errors} errors in a window`);
      }
    }
  }
  return [...new Set(out)];
}
