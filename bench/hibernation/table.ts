// The printed table of the hibernation bench: one row per figure, bare `ws` and partyhouse side by
// side, partyhouse/bare, and the target. Rows come from three kinds of source (memory readings,
// windowed scenarios with per-round ratios, absolute targets), so they carry their own target text.
import { formatValue, targetCell } from "../lib/table.js";
import type { Ratio } from "../lib/results.js";
import type { MetricSpec } from "../scenarios/types.js";

export type Unit = MetricSpec["unit"] | "B" | "sockets";

export interface Row {
  label: string;
  unit: Unit;
  better?: "higher" | "lower";
  bare?: number;
  partyhouse?: number;
  /** partyhouse/bare; from per-round ratios when the figure was windowed, else from the two values. */
  ratio?: Ratio;
  /** Ready-made target cell ("≤ 1.50x ok", "< 1 ms MISS"); blank when the figure has none. */
  target?: string;
}

/** A target on partyhouse/bare, checked with the harness's rule. */
export function ratioTarget(better: "higher" | "lower", goal: number, ratio: Ratio | undefined): string {
  const spec: MetricSpec = { key: "", label: "", unit: "KiB", better, target: goal };
  return targetCell(spec, ratio?.value);
}

export function plainRatio(bare: number | undefined, partyhouse: number | undefined): Ratio | undefined {
  if (bare === undefined || partyhouse === undefined) return undefined;
  return { value: bare > 0 && Number.isFinite(bare) && Number.isFinite(partyhouse) ? partyhouse / bare : NaN };
}

function format(value: number | undefined, unit: Unit): string {
  if (unit === "B") return value === undefined ? "–" : Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "n/a";
  if (unit === "sockets") return formatValue(value, "/s");
  return formatValue(value, unit);
}

function formatRatio(r: Ratio | undefined): string {
  if (r === undefined) return "–";
  if (!Number.isFinite(r.value)) return "n/a";
  const spread = r.q1 !== undefined && r.q3 !== undefined ? ` (${r.q1.toFixed(2)}–${r.q3.toFixed(2)})` : "";
  return `${r.value.toFixed(2)}x${spread}`;
}

function labelOf(row: Row): string {
  const unit = row.unit === "/s" || row.unit === "sockets" ? "" : ` (${row.unit})`;
  return `${row.label}${unit}${row.better === "lower" ? " ↓" : ""}`;
}

export function renderRows(rows: Row[]): string {
  const header = ["figure", "bare ws", "partyhouse (hibernating)", "partyhouse/bare", "target"];
  const body = rows.map((row) => [
    labelOf(row),
    format(row.bare, row.unit),
    format(row.partyhouse, row.unit),
    formatRatio(row.ratio ?? plainRatio(row.bare, row.partyhouse)),
    row.target ?? "",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const edge = (i: number) => i === 0 || i === header.length - 1;
  const line = (cells: string[]) => `| ${cells.map((c, i) => (edge(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (edge(i) ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`;
  return [line(header), rule, ...body.map(line)].join("\n");
}
