/**
 * Arguments of the data commands (backup, restore, export, import, migrate): pure, like args.ts,
 * each command taking only its own options.
 */
import { parseArgs } from "node:util";
import { UsageError } from "./args.js";

export const DATA_OPERATIONS = ["backup", "restore", "export", "import", "migrate"] as const;
export type DataOperation = (typeof DATA_OPERATIONS)[number];

export interface DataCommand {
  kind: "data";
  op: DataOperation;
  /** The export file (`-`: stdin/stdout). */
  file?: string;
  /** A data folder or postgres:// URL; default: the project's (config, --persist, cluster). */
  from?: string;
  to?: string;
  /** Admin listener URL of a running server (backup and export while it serves). */
  admin?: string;
  adminToken?: string;
  configPath?: string;
  party?: string;
  prefix?: string;
  readable: boolean;
  replace: boolean;
  force: boolean;
}

const SOURCE = { from: { type: "string" }, admin: { type: "string" }, "admin-token": { type: "string" }, config: { type: "string", short: "c" } } as const;
const TARGET = { to: { type: "string" }, config: { type: "string", short: "c" }, force: { type: "boolean" } } as const;
const FILTER = { party: { type: "string" }, prefix: { type: "string" } } as const;
const HELP = { help: { type: "boolean", short: "h" } } as const;

const OPTIONS = {
  backup: { ...SOURCE, ...HELP },
  export: { ...SOURCE, ...FILTER, readable: { type: "boolean" }, ...HELP },
  restore: { ...TARGET, ...HELP },
  import: { ...TARGET, ...FILTER, replace: { type: "boolean" }, ...HELP },
  migrate: { from: { type: "string" }, to: { type: "string" }, force: { type: "boolean" }, ...HELP },
} as const;

const USAGE: Record<DataOperation, string> = {
  backup: "partyhouse backup <file> [--from <folder|url>] [--admin <url>]",
  export: "partyhouse export [file|-] [--party <name>] [--prefix <room prefix>] [--from <folder|url>] [--admin <url>]",
  restore: "partyhouse restore <file|-> [--to <folder|url>] [--force]",
  import: "partyhouse import <file|-> [--to <folder|url>] [--party <name>] [--prefix <room prefix>] [--replace]",
  migrate: "partyhouse migrate --from <folder|url> --to <url|folder> [--force]",
};

export function isDataOperation(name: string): name is DataOperation {
  return (DATA_OPERATIONS as readonly string[]).includes(name);
}

/** `{ kind: "help" }` for --help; otherwise the command. */
export function parseDataCommand(op: DataOperation, argv: readonly string[]): DataCommand | { kind: "help" } {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS[op], allowPositionals: true, strict: true });
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0]! : String(error);
    const option = /'([^']+)'/.exec(message)?.[1];
    throw new UsageError(`${option ? `unknown or incomplete option ${option.replace(/ <value>$/, "")}` : message} (usage: ${USAGE[op]})`);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help === true) return { kind: "help" };
  const positionals = parsed.positionals;
  const maxFiles = op === "migrate" ? 0 : 1;
  if (positionals.length > maxFiles) throw new UsageError(`too many arguments: ${positionals.join(" ")} (usage: ${USAGE[op]})`);
  const command: DataCommand = { kind: "data", op, readable: values.readable === true, replace: values.replace === true, force: values.force === true };
  const file = positionals[0] ?? (op === "export" ? "-" : undefined);
  if (file === undefined && op !== "migrate") throw new UsageError(`${op} needs a file${op === "backup" ? "" : " (or - for stdin)"} (usage: ${USAGE[op]})`);
  if (op === "backup" && file === "-") throw new UsageError("backup writes a file (for a stream on stdout, use partyhouse export -)");
  if (file !== undefined) command.file = file;
  for (const name of ["from", "to", "admin", "party", "prefix"] as const) {
    const value = values[name];
    if (typeof value !== "string") continue;
    if (value === "") throw new UsageError(`--${name} needs a value (usage: ${USAGE[op]})`);
    command[name] = value;
  }
  if (typeof values["admin-token"] === "string") command.adminToken = values["admin-token"];
  if (typeof values.config === "string") command.configPath = values.config;
  if (command.admin !== undefined && !/^https?:\/\//.test(command.admin)) throw new UsageError(`--admin takes the admin listener's URL (http://host:port), got "${command.admin}"`);
  if (command.admin !== undefined && command.from !== undefined) throw new UsageError("give --from (read the store) or --admin (ask the running server), not both");
  if (op === "migrate" && (command.from === undefined || command.to === undefined)) throw new UsageError(`migrate needs --from and --to (usage: ${USAGE.migrate})`);
  return command;
}
