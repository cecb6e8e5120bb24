import type { Probe } from "./probes.js";

/** What legitimately differs between two runs: ports, random ids, platform ids. */
export function normalize(result: string): string {
  return result
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, "<uuid>")
    .replace(/\b(?:127\.0\.0\.1|localhost|0\.0\.0\.0):\d+/g, "<host>")
    .replace(/\b[0-9a-f]{64}\b/g, "<hex64>");
}

export type Verdict = "same" | "differs-as-spec-10-intends" | "differs-knowingly" | "DIFFERS";

export interface Row {
  readonly probe: Probe;
  readonly partykit: string;
  readonly partyhouse: string;
  readonly verdict: Verdict;
}

export function verdictOf(probe: Probe, partykit: string, partyhouse: string): Verdict {
  if (partykit === partyhouse) return "same";
  if (probe.spec10 && probe.spec10.partyhouse.test(partyhouse)) return "differs-as-spec-10-intends";
  if (probe.known && probe.known.partyhouse.test(partyhouse)) return "differs-knowingly";
  return "DIFFERS";
}

/** Why a row may differ: its spec 10 topic or its known reason. */
function explanation(row: Row): string {
  if (row.verdict === "differs-as-spec-10-intends") return ` (spec 10: ${row.probe.spec10!.topic})`;
  if (row.verdict === "differs-knowingly") return ` (${row.probe.known!.why})`;
  return "";
}

function clip(text: string, width: number): string {
  const flat = text.replace(/\s+/g, " ");
  return flat.length <= width ? flat : `${flat.slice(0, width - 1)}…`;
}

/** A fixed-width table for the terminal, then the full results of every row that is not `same`. */
export function textReport(rows: readonly Row[]): string {
  const width = 48;
  const nameWidth = Math.max(...rows.map((r) => r.probe.group.length + r.probe.name.length + 2));
  const lines = [
    `${"probe".padEnd(nameWidth)}  ${"partykit".padEnd(width)}  ${"partyhouse".padEnd(width)}  verdict`,
    "-".repeat(nameWidth + 2 * width + 16),
  ];
  for (const row of rows) {
    const name = `${row.probe.group}: ${row.probe.name}`;
    const ph = row.verdict === "same" ? "(same)" : row.partyhouse;
    lines.push(`${name.padEnd(nameWidth)}  ${clip(row.partykit, width).padEnd(width)}  ${clip(ph, width).padEnd(width)}  ${row.verdict}`);
  }
  const different = rows.filter((r) => r.verdict !== "same");
  if (different.length > 0) {
    lines.push("", "Details of the rows that differ:");
    for (const row of different) {
      lines.push(
        "",
        `[${row.verdict}] ${row.probe.group}: ${row.probe.name}${explanation(row)}`,
        `  partykit:   ${row.partykit}`,
        `  partyhouse: ${row.partyhouse}`,
      );
    }
  }
  const count = (v: Verdict) => rows.filter((r) => r.verdict === v).length;
  lines.push(
    "",
    `${rows.length} probes: ${count("same")} same, ${count("differs-as-spec-10-intends")} differ as spec 10 intends, ` +
      `${count("differs-knowingly")} differ knowingly, ${count("DIFFERS")} DIFFER`,
  );
  return lines.join("\n");
}

function cell(text: string, width = 110): string {
  // Inside `code` spans: a backtick would end the span early.
  return clip(text, width).replace(/`/g, "'").replace(/\|/g, "\\|");
}

/** The same table as Markdown (full results, lightly clipped), for the README. */
export function markdownReport(rows: readonly Row[]): string {
  const lines = ["| probe | partykit | partyhouse | verdict |", "| --- | --- | --- | --- |"];
  for (const row of rows) {
    const ph = row.verdict === "same" ? "(same)" : row.partyhouse;
    const verdict = row.verdict === "same" || row.verdict === "DIFFERS" ? row.verdict : `${row.verdict}${explanation(row)}`;
    lines.push(`| ${cell(`${row.probe.group}: ${row.probe.name}`)} | \`${cell(row.partykit)}\` | \`${cell(ph)}\` | ${verdict} |`);
  }
  return lines.join("\n");
}
