/**
 * Command-line parsing (node:util parseArgs). Pure: turns argv into what to do, or throws a
 * UsageError whose message is the one line to print.
 */
import { parseArgs } from "node:util";
import type { ConfigOverrides } from "../config/load.js";
import type { Mode } from "../config/types.js";
import { splitKeyValue } from "../config/vars.js";
import { ConfigError } from "../config/errors.js";
import type { LogLevel } from "../runtime/logger.js";
import { LOG_LEVELS, isLogLevel } from "../logging/levels.js";
import { parseSize } from "../config/size.js";
import { MAX_WORKERS } from "../config/workers.js";
import { isDataOperation, parseDataCommand, type DataCommand } from "./data-args.js";

export class UsageError extends Error {
  override name = "UsageError";
}

export interface RunCommand {
  kind: "run";
  mode: Mode;
  script?: string;
  configPath?: string;
  overrides: ConfigOverrides;
  /** `--hibernate-after`: idle ms before a hibernating room drops its instance (not a config key). */
  hibernateAfterMs?: number;
  /** `--admin-port`, `--admin-host`, `--admin-token` (they override `admin` from the config). */
  admin?: { port?: number; host?: string; token?: string };
  logLevel?: LogLevel;
  /** `--cluster-lease`: node lease in ms (default 10 s; tests shorten it). */
  clusterLeaseMs?: number;
}

export type CliCommand =
  | { kind: "help"; topic: "top" | "data" | Mode }
  | { kind: "version" }
  | { kind: "init"; dir?: string }
  | DataCommand
  | RunCommand;

const COMMANDS: readonly Mode[] = ["dev", "start"];
const ALL_COMMANDS = "dev, start, init, backup, restore, export, import, migrate";

const RUN_OPTIONS = {
  port: { type: "string", short: "p" },
  host: { type: "string" },
  config: { type: "string", short: "c" },
  persist: { type: "string" },
  var: { type: "string", short: "v", multiple: true },
  define: { type: "string", short: "d", multiple: true },
  serve: { type: "string" },
  minify: { type: "boolean" },
  "with-env": { type: "boolean" },
  "hibernate-after": { type: "string" },
  "admin-port": { type: "string" },
  "admin-host": { type: "string" },
  "admin-token": { type: "string" },
  "log-level": { type: "string" },
  cluster: { type: "string" },
  advertise: { type: "string" },
  "cluster-lease": { type: "string" },
  "cluster-cert": { type: "string" },
  "cluster-key": { type: "string" },
  "cluster-ca": { type: "string" },
  "max-body-size": { type: "string" },
  "allowed-origins": { type: "string" },
  "trust-proxy": { type: "boolean" },
  "max-event-ms": { type: "string" },
  workers: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export function parseCli(argv: readonly string[]): CliCommand {
  const [first, ...rest] = argv;
  if (first === undefined) throw new UsageError("missing command (try: partyhouse dev, or partyhouse --help)");
  if (first === "-h" || first === "--help") return { kind: "help", topic: "top" };
  if (first === "--version" || first === "-V") return { kind: "version" };
  if (first === "help") {
    const topic = rest[0];
    if (topic === undefined) return { kind: "help", topic: "top" };
    if (isCommand(topic)) return { kind: "help", topic };
    if (isDataOperation(topic)) return { kind: "help", topic: "data" };
    throw new UsageError(`unknown command "${topic}" (commands: ${ALL_COMMANDS})`);
  }
  if (first.startsWith("-")) throw new UsageError(`unknown option ${first} (try: partyhouse --help)`);
  if (first === "init") return parseInit(rest);
  if (isDataOperation(first)) {
    const command = parseDataCommand(first, rest);
    return command.kind === "help" ? { kind: "help", topic: "data" } : command;
  }
  if (!isCommand(first)) throw new UsageError(`unknown command "${first}" (commands: ${ALL_COMMANDS})`);
  return parseRun(first, rest);
}

function parseInit(argv: readonly string[]): CliCommand {
  if (argv.includes("-h") || argv.includes("--help")) return { kind: "help", topic: "top" };
  const option = argv.find((arg) => arg.startsWith("-"));
  if (option !== undefined) throw new UsageError(`unknown option ${option} (usage: partyhouse init [dir])`);
  if (argv.length > 1) throw new UsageError(`expected at most one folder, got ${argv.join(" ")} (usage: partyhouse init [dir])`);
  return argv[0] === undefined ? { kind: "init" } : { kind: "init", dir: argv[0] };
}

function isCommand(name: string): name is Mode {
  return (COMMANDS as readonly string[]).includes(name);
}

function parseRun(mode: Mode, argv: readonly string[]): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({ args: withVariadicPairs(withPersistValue(argv)), options: RUN_OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${describeParseError(error)} (see partyhouse ${mode} --help)`);
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: "help", topic: mode };
  if (positionals.length > 1) {
    throw new UsageError(`expected at most one script, got ${positionals.join(" ")} (see partyhouse ${mode} --help)`);
  }

  const overrides: ConfigOverrides = {};
  if (values.port !== undefined) overrides.port = parsePort(values.port);
  if (values.host !== undefined) {
    if (values.host === "") throw new UsageError("--host needs an address");
    overrides.host = values.host;
  }
  if (values.persist !== undefined) overrides.persist = parsePersist(values.persist);
  if (values.var !== undefined) overrides.vars = keyValues(values.var, "--var");
  if (values.define !== undefined) overrides.define = keyValues(values.define, "--define");
  if (values.serve !== undefined) overrides.serve = values.serve;
  if (values.minify !== undefined) overrides.minify = values.minify;
  if (values["with-env"] !== undefined) overrides.withEnv = values["with-env"];
  if (values.cluster !== undefined) {
    if (!/^postgres(ql)?:\/\//.test(values.cluster)) throw new UsageError(`--cluster takes a postgres:// URL, got "${values.cluster}"`);
    overrides.cluster = values.cluster;
  }
  if (values.advertise !== undefined) {
    if (!/^(\[[0-9a-fA-F:.]+\]|[^:\s\/]+):\d{1,5}$/.test(values.advertise)) {
      throw new UsageError(`--advertise takes host:port, got "${values.advertise}"`);
    }
    overrides.advertise = values.advertise;
  }
  for (const [flag, name] of [["cluster-cert", "cert"], ["cluster-key", "key"], ["cluster-ca", "ca"]] as const) {
    const file = values[flag];
    if (file !== undefined) overrides.clusterTls = { ...overrides.clusterTls, [name]: file };
  }
  if (values["max-body-size"] !== undefined) {
    const size = parseSize(values["max-body-size"]);
    if (size === null) throw new UsageError(`--max-body-size takes bytes or a size like 100mb, got "${values["max-body-size"]}"`);
    overrides.maxBodyBytes = size;
  }
  if (values["allowed-origins"] !== undefined) {
    overrides.allowedOrigins = values["allowed-origins"].split(",").map((origin) => origin.trim()).filter((origin) => origin !== "");
  }
  if (values["trust-proxy"] !== undefined) overrides.trustProxy = values["trust-proxy"];
  if (values["max-event-ms"] !== undefined) {
    const ms = parseMilliseconds(values["max-event-ms"], "--max-event-ms");
    if (ms < 1) throw new UsageError("--max-event-ms must be at least 1");
    overrides.maxEventMs = ms;
  }

  if (values.workers !== undefined) {
    if (mode !== "start") throw new UsageError("--workers is for partyhouse start (dev runs one process)");
    overrides.workers = parseWorkers(values.workers);
  }

  const command: RunCommand = { kind: "run", mode, overrides };
  if (positionals[0] !== undefined) command.script = positionals[0];
  if (values.config !== undefined) command.configPath = values.config;
  if (values["hibernate-after"] !== undefined) command.hibernateAfterMs = parseMilliseconds(values["hibernate-after"], "--hibernate-after");
  const admin: NonNullable<RunCommand["admin"]> = {};
  if (values["admin-port"] !== undefined) admin.port = parsePort(values["admin-port"], "--admin-port");
  if (values["admin-host"] !== undefined) {
    if (values["admin-host"] === "") throw new UsageError("--admin-host needs an address");
    admin.host = values["admin-host"];
  }
  if (values["admin-token"] !== undefined) admin.token = values["admin-token"];
  if (Object.keys(admin).length > 0) command.admin = admin;
  const level = values["log-level"];
  if (level !== undefined) {
    if (!isLogLevel(level)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(", ")}, got "${level}"`);
    command.logLevel = level;
  }
  if (values["cluster-lease"] !== undefined) command.clusterLeaseMs = parseMilliseconds(values["cluster-lease"], "--cluster-lease");
  return command;
}

/** `--persist` may stand alone (meaning the default folder); parseArgs needs a value. */
function withPersistValue(argv: readonly string[]): string[] {
  return argv.map((arg, i) => {
    if (arg !== "--persist") return arg;
    const next = argv[i + 1];
    return next === undefined || next.startsWith("-") ? "--persist=true" : arg;
  });
}

/** Flags that take several `KEY=VALUE` pairs after one flag, as PartyKit's do. */
const VARIADIC_FLAGS = new Set(["--var", "-v", "--define", "-d"]);

/**
 * `--var A=1 B=2` means `--var A=1 --var B=2` (PartyKit's flags are variadic); parseArgs takes
 * one value per flag. Only words with `=` continue the list, so a `[script]` after it stays one.
 */
function withVariadicPairs(argv: readonly string[]): string[] {
  const result: string[] = [];
  let flag: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (flag !== undefined && !arg.startsWith("-") && arg.includes("=")) {
      result.push(flag, arg);
      continue;
    }
    flag = undefined;
    result.push(arg);
    const name = arg.includes("=") ? arg.slice(0, arg.indexOf("=")) : arg;
    if (!VARIADIC_FLAGS.has(name)) continue;
    if (name === arg) {
      // The flag's own value follows it.
      if (i + 1 < argv.length) result.push(argv[++i]!);
    }
    flag = name.startsWith("--") ? name : name === "-v" ? "--var" : "--define";
  }
  return result;
}

function parsePersist(value: string): string | boolean {
  if (value === "true") return true;
  if (value === "false") return false;
  if (value === "") throw new UsageError("--persist needs a folder, true or false");
  return value;
}

function parseMilliseconds(value: string, flag: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} takes milliseconds (a whole number), got "${value}"`);
  return Number(value);
}

function parseWorkers(value: string): number | "auto" {
  if (value === "auto") return "auto";
  const count = Number(value);
  if (!/^\d+$/.test(value) || count < 1 || count > MAX_WORKERS) {
    throw new UsageError(`--workers takes "auto" or a whole number from 1 to ${MAX_WORKERS}, got "${value}"`);
  }
  return count;
}

function parsePort(value: string, flag = "--port"): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) {
    throw new UsageError(`${flag} must be a whole number from 0 to 65535, got "${value}"`);
  }
  return port;
}

function keyValues(entries: string[], flag: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const entry of entries) {
    try {
      const [key, value] = splitKeyValue(entry, flag);
      result[key] = value;
    } catch (error) {
      throw error instanceof ConfigError ? new UsageError(error.message) : error;
    }
  }
  return result;
}

/** parseArgs' messages are long and mention `--` tricks; say the essential part. */
function describeParseError(error: unknown): string {
  const code = (error as { code?: string }).code;
  const message = error instanceof Error ? error.message : String(error);
  const option = /'([^']+)'/.exec(message)?.[1];
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && option) return `unknown option ${option}`;
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && option && message.includes("argument missing")) {
    return `option ${option.replace(/ <value>$/, "")} needs a value`;
  }
  return message.split("\n")[0] ?? message;
}
