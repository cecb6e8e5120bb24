// Options of bench/yjs/run.ts and its two sizes of run.
import { readFlags } from "../lib/options.js";
export const ALL_FIGURES = ["onedoc", "memory", "wake", "fanout"] as const;
export type Figure = (typeof ALL_FIGURES)[number];

export interface YBenchSettings {
  quick: boolean;
  figures: Figure[];
  /** partyhouse/yjs's --hibernate-after (both servers get it; only partyhouse/yjs hibernates). */
  hibernateAfterMs: number;
  /** Memory: documents, editors per document, how each document is filled, awareness renewal, settle time. */
  docs: number;
  editorsPerDoc: number;
  docUpdates: number;
  docChunk: number;
  renewMs: number;
  settleMs: number;
  /** One document (issue 23's scenario): editors held at each reading, and the one edit's size. */
  oneDocEditors: number[];
  editBytes: number;
  /** Wake: document sizes in MB, samples per size and server. */
  wakeSizes: number[];
  wakeSamples: number;
  /** Fan-out: editors per document, rounds of one window per server, window length, updates in flight. */
  fanoutSizes: number[];
  rounds: number;
  windowMs: number;
  inFlight: number;
}

const USAGE = `usage: node --import tsx bench/yjs/run.ts [--quick] [--figures ${ALL_FIGURES.join(",")}] [--rounds <n>] [--docs <n>] [--one-doc-editors 300,1000]`;

export function parseYBenchOptions(argv: string[]): YBenchSettings {
  const flags = readFlags(argv, USAGE);
  const quick = flags.has("quick");
  const figures = (flags.get("figures")?.split(",") ?? [...ALL_FIGURES]) as Figure[];
  for (const figure of figures) if (!ALL_FIGURES.includes(figure)) throw new Error(`unknown figure "${figure}"\n${USAGE}`);
  const number = (key: string, fallback: number) => {
    const value = Number(flags.get(key) ?? fallback);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${key} takes a number\n${USAGE}`);
    return value;
  };
  return {
    quick,
    figures,
    hibernateAfterMs: 1000,
    docs: number("docs", quick ? 20 : 200),
    editorsPerDoc: 5,
    docUpdates: 100,
    docChunk: 500,
    renewMs: 15_000,
    settleMs: quick ? 5000 : 20_000,
    oneDocEditors: flags.get("one-doc-editors")?.split(",").map(Number) ?? (quick ? [100, 300] : [300, 1000]),
    editBytes: 2048,
    wakeSizes: quick ? [1] : [1, 10],
    wakeSamples: quick ? 3 : 8,
    fanoutSizes: [100, 1000],
    rounds: number("rounds", quick ? 2 : 10),
    windowMs: 1000,
    inFlight: 8,
  };
}
