// Command-line options of bench/hibernation/run.ts and its two sizes of run (quick and full).
import { readFlags } from "../lib/options.js";

export const ALL_FIGURES = ["memory", "fanout", "wake", "wakefanout", "rooms"] as const;
export type Figure = (typeof ALL_FIGURES)[number];

export interface HibernationSettings {
  quick: boolean;
  /** Which figures to measure (always in ALL_FIGURES order); all by default. */
  figures: Figure[];
  /** Idle sockets held at each memory reading, ascending; every reading adds sockets to the last. */
  memorySteps: number[];
  /** Receiving sockets per fan-out figure. */
  fanoutSizes: number[];
  /** Receiving sockets per first-broadcast-after-a-wake figure. */
  wakeFanoutSizes: number[];
  /** Measured windows per server and windowed figure, and their length. */
  windows: number;
  windowMs: number;
  warmupMs: number;
  /** partyhouse's --hibernate-after: small, so the wake samples can be close together. */
  hibernateAfterMs: number;
  /** Rooms the wake load cycles through, and how long each rests between two samples. */
  wakeRooms: number;
  wakeGapMs: number;
  /** Fresh rooms created by HTTP for the idle-room figure (0 skips it). */
  idleRooms: number;
  /** Also wait out partyhouse's 15 s eviction and read the heap again. */
  checkEviction: boolean;
}

/** One load process holds at most this many sockets: every process is capped at 20,000 files. */
export const MAX_SOCKETS_PER_PROCESS = 9000;

const USAGE = `usage: node --import tsx bench/hibernation/run.ts [--quick] [--figures ${ALL_FIGURES.join(",")}] [--windows <n>] [--window-ms <ms>]
  [--memory-steps 1000,5000,15000] [--fanout-sizes 1000,10000] [--wake-fanout-sizes 10000] [--idle-rooms <n>] [--hibernate-after <ms>]`;

export function parseHibernationOptions(argv: string[]): HibernationSettings {
  const flags = readFlags(argv, USAGE);
  const quick = flags.has("quick");
  const numbers = (key: string, fallback: number[]): number[] => {
    const value = flags.get(key);
    if (value === undefined) return fallback;
    const list = value.split(",").map(Number);
    if (list.some((n) => !Number.isInteger(n) || n <= 0)) throw new Error(`--${key} takes positive whole numbers\n${USAGE}`);
    return list.sort((a, b) => a - b);
  };
  const number = (key: string, fallback: number): number => {
    const value = Number(flags.get(key) ?? fallback);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${key} takes a number\n${USAGE}`);
    return value;
  };
  const memorySteps = numbers("memory-steps", [1000, 5000, 15_000]);
  // A server process holds at most ~19.9k sockets, and the memory run holds all of them at once.
  if (memorySteps[memorySteps.length - 1]! > 19_000) throw new Error("--memory-steps: one server process holds at most ~19.9k sockets");
  const figures = (flags.get("figures")?.split(",") ?? [...ALL_FIGURES]) as Figure[];
  for (const figure of figures) if (!ALL_FIGURES.includes(figure)) throw new Error(`unknown figure "${figure}"\n${USAGE}`);
  return {
    quick,
    figures,
    memorySteps,
    fanoutSizes: numbers("fanout-sizes", [1000, 10_000]),
    wakeFanoutSizes: numbers("wake-fanout-sizes", [10_000]),
    windows: number("windows", quick ? 1 : 20),
    windowMs: number("window-ms", 1000),
    warmupMs: quick ? 1000 : 2000,
    hibernateAfterMs: number("hibernate-after", 50),
    wakeRooms: 40,
    wakeGapMs: 200,
    idleRooms: number("idle-rooms", quick ? 5000 : 20_000),
    checkEviction: !quick,
  };
}
