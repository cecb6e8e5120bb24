// Command-line options of bench/run.ts and the two sizes of run (quick and full).
import { existsSync } from "node:fs";
import type { ServerName } from "../servers/server-handle.js";

export interface Settings {
  quick: boolean;
  servers: ServerName[];
  scenarios: string[];
  partykitDir: string | undefined;
  /** Measured windows per server and scenario; the table shows their median. */
  windows: number;
  windowMs: number;
  warmupMs: number;
  httpConnections: number;
  echoSockets: number;
  fanoutSockets: number;
  fanoutReceiverProcesses: number;
  fanoutInFlight: number;
  idleSockets: number;
  idleProcesses: number;
  payloadBytes: number;
}

/** The default servers; "tuned" (the hand-tuned fan-out floor) runs when named in --servers. */
const DEFAULT_SERVERS: ServerName[] = ["bare", "partykit", "partyhouse"];
const ALL_SERVERS: ServerName[] = ["bare", "tuned", "partykit", "partyhouse"];
export const ALL_SCENARIOS = ["memory", "http", "echo", "fanout", "rooms", "put"];
/** Where the README tells people to install partykit; used when no directory is given. */
const DEFAULT_PARTYKIT_DIR = "/tmp/partykit-ref";

const USAGE = `usage: node --import tsx bench/run.ts [--quick] [--partykit-dir <dir>]
  [--servers bare,tuned,partykit,partyhouse] [--scenarios ${ALL_SCENARIOS.join(",")}]
  [--windows <n>] [--window-ms <ms>] [--fanout-sockets <n>] [--fanout-in-flight <n>] [--idle-sockets <n>]`;

export function parseOptions(argv: string[]): Settings {
  const flags = readFlags(argv, USAGE);
  const quick = flags.has("quick");
  const list = <T extends string>(key: string, all: T[], defaults = all): T[] => {
    const value = flags.get(key);
    if (!value) return defaults;
    const picked = value.split(",").map((s) => s.trim()) as T[];
    for (const item of picked) if (!all.includes(item)) throw new Error(`unknown ${key} "${item}"\n${USAGE}`);
    return picked;
  };
  const envDir = process.env.PARTYKIT_DIR;
  const partykitDir = flags.get("partykit-dir") ?? envDir ?? (existsSync(DEFAULT_PARTYKIT_DIR) ? DEFAULT_PARTYKIT_DIR : undefined);
  return {
    quick,
    servers: list("servers", ALL_SERVERS, DEFAULT_SERVERS),
    scenarios: list("scenarios", ALL_SCENARIOS),
    partykitDir,
    windows: Number(flags.get("windows") ?? (quick ? 1 : 20)),
    windowMs: Number(flags.get("window-ms") ?? 1000),
    warmupMs: quick ? 1000 : 2000,
    httpConnections: 32,
    echoSockets: 50,
    fanoutSockets: Number(flags.get("fanout-sockets") ?? 1000),
    fanoutReceiverProcesses: 2,
    fanoutInFlight: Number(flags.get("fanout-in-flight") ?? 8),
    idleSockets: Number(flags.get("idle-sockets") ?? (quick ? 1000 : 10_000)),
    idleProcesses: quick ? 1 : 2,
    payloadBytes: 32,
  };
}

/**
 * The flags of a bench command line: `--quick` (no value), `--help` (prints `usage`, exits),
 * and `--name value` pairs; anything else is an error that shows `usage`.
 */
export function readFlags(argv: string[], usage: string): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--quick") flags.set("quick", "1");
    else if (arg === "--help" || arg === "-h") {
      console.log(usage);
      process.exit(0);
    } else if (arg.startsWith("--") && i + 1 < argv.length) flags.set(arg.slice(2), argv[++i]!);
    else throw new Error(`unknown argument ${arg}\n${usage}`);
  }
  return flags;
}
