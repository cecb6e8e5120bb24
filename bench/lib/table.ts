// The printed table: one row per metric, one column per server, then partyhouse's ratios to the
// bare floor and to partykit dev, and the target partyhouse/bare must meet.
import type { MetricSpec } from "../scenarios/types.js";
import type { ServerName } from "../servers/server-handle.js";
import { SERVER_LABELS } from "../servers/targets.js";
import type { Ratio } from "./results.js";

export interface TableRow {
  metric: MetricSpec;
  /** Median per server; absent when the server was skipped or the scenario not run on it. */
  values: Partial<Record<ServerName, number>>;
  /** partyhouse/bare, partyhouse/tuned and partyhouse/partykit; computed from `values` when not given. */
  toBare?: Ratio;
  toTuned?: Ratio;
  toPartykit?: Ratio;
}

export function formatValue(value: number | undefined, unit: MetricSpec["unit"]): string {
  if (value === undefined) return "–";
  if (!Number.isFinite(value)) return "n/a";
  switch (unit) {
    case "/s":
      return Math.round(value).toLocaleString("en-US");
    case "ms":
      return value < 10 ? value.toFixed(2) : value.toFixed(1);
    case "µs":
      return value.toFixed(1);
    case "KiB":
      return value.toFixed(2);
  }
}

export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined) return undefined;
  return b > 0 && Number.isFinite(a) && Number.isFinite(b) ? a / b : NaN;
}

/** "0.82x", or "0.82x (0.74–0.88)" with the interquartile range of the per-round ratios. */
function formatRatio(r: Ratio | undefined): string {
  if (r === undefined) return "–";
  if (!Number.isFinite(r.value)) return "n/a";
  const spread = r.q1 !== undefined && r.q3 !== undefined ? ` (${r.q1.toFixed(2)}–${r.q3.toFixed(2)})` : "";
  return `${r.value.toFixed(2)}x${spread}`;
}

function plainRatio(a: number | undefined, b: number | undefined): Ratio | undefined {
  const value = ratio(a, b);
  return value === undefined ? undefined : { value };
}

/** "≥ 0.80x ok" / "≤ 1.50x MISS"; blank for rows without a target. */
export function targetCell(metric: MetricSpec, partyhouseToBare: number | undefined): string {
  if (metric.target === undefined) return "";
  const sign = metric.better === "higher" ? "≥" : "≤";
  const goal = `${sign} ${metric.target.toFixed(2)}x`;
  if (partyhouseToBare === undefined || !Number.isFinite(partyhouseToBare)) return goal;
  const met = metric.better === "higher" ? partyhouseToBare >= metric.target : partyhouseToBare <= metric.target;
  return `${goal} ${met ? "ok" : "MISS"}`;
}

function label(metric: MetricSpec): string {
  const unit = metric.unit === "/s" ? "" : ` (${metric.unit})`;
  return `${metric.label}${unit}${metric.better === "lower" ? " ↓" : ""}`;
}

/** The tuned floor gets its columns only in runs that started it (`--servers ...,tuned`). */
export function renderTable(rows: TableRow[]): string {
  const withTuned = rows.some((r) => r.values.tuned !== undefined);
  const columns: ServerName[] = withTuned ? ["bare", "tuned", "partykit", "partyhouse"] : ["bare", "partykit", "partyhouse"];
  const header = [
    "scenario", ...columns.map((c) => SERVER_LABELS[c]), "partyhouse/bare", ...(withTuned ? ["partyhouse/tuned"] : []), "partyhouse/partykit", "target",
  ];
  const body = rows.map(({ metric, values, toBare: pairedBare, toTuned: pairedTuned, toPartykit }) => {
    const toBare = pairedBare ?? plainRatio(values.partyhouse, values.bare);
    const toTuned = pairedTuned ?? plainRatio(values.partyhouse, values.tuned);
    // A row held to the tuned floor is checked against it when it ran, else against bare.
    const checked = metric.floor === "tuned" && toTuned !== undefined ? toTuned : toBare;
    const target = targetCell(metric, checked?.value);
    return [
      label(metric),
      ...columns.map((c) => formatValue(values[c], metric.unit)),
      formatRatio(toBare),
      ...(withTuned ? [formatRatio(toTuned)] : []),
      formatRatio(toPartykit ?? plainRatio(values.partyhouse, values.partykit)),
      metric.target !== undefined && checked === toTuned && metric.floor === "tuned" ? `${target} (vs tuned)` : target,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (i === 0 || i === widths.length - 1 ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`;
  return [line(header), rule, ...body.map(line)].join("\n");
}
