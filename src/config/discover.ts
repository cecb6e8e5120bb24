/**
 * Finding and reading the config file, as PartyKit does: walking up from the cwd, each folder
 * is checked for `partykit.json`, `partykit.json5` then `partykit.jsonc` (all parsed as JSON5);
 * only if none is found anywhere up the tree is `package.json#partykit` used. `-c` overrides.
 */
import { readFile, stat } from "node:fs/promises";
import { basename, dirname, join, relative, resolve } from "node:path";
import JSON5 from "json5";
import { ConfigError } from "./errors.js";

export const CONFIG_FILE_NAMES = ["partykit.json", "partykit.json5", "partykit.jsonc"] as const;

export interface FoundConfig {
  /** Absolute path of the file read. */
  path: string;
  /** How errors refer to it, e.g. `partykit.json` or `../package.json#partykit`. */
  label: string;
  /** The parsed config object (not yet validated). */
  raw: unknown;
}

export async function findConfig(cwd: string, configPath?: string): Promise<FoundConfig | null> {
  if (configPath !== undefined) return readExplicit(cwd, resolve(cwd, configPath));
  for (const folder of ancestors(cwd)) {
    for (const name of CONFIG_FILE_NAMES) {
      const path = join(folder, name);
      if (await isFile(path)) return readConfigFile(cwd, path);
    }
  }
  for (const folder of ancestors(cwd)) {
    const path = join(folder, "package.json");
    if (!(await isFile(path))) continue;
    const found = await readPackageJson(cwd, path);
    if (found) return found;
  }
  return null;
}

async function readExplicit(cwd: string, path: string): Promise<FoundConfig> {
  if (!(await isFile(path))) throw new ConfigError(`config file not found: ${path}`);
  if (basename(path) === "package.json") {
    const found = await readPackageJson(cwd, path);
    if (!found) throw new ConfigError(`${labelFor(cwd, path)}: has no "partykit" field`);
    return found;
  }
  return readConfigFile(cwd, path);
}

async function readConfigFile(cwd: string, path: string): Promise<FoundConfig> {
  const label = labelFor(cwd, path);
  return { path, label, raw: parseJson5(await readFile(path, "utf8"), label) };
}

/** The nearest package.json with a `partykit` field wins; one without it is passed over. */
async function readPackageJson(cwd: string, path: string): Promise<FoundConfig | null> {
  const label = labelFor(cwd, path);
  const pkg = parseJson5(await readFile(path, "utf8"), label);
  if (typeof pkg !== "object" || pkg === null || !("partykit" in pkg)) return null;
  return { path, label: `${label}#partykit`, raw: (pkg as { partykit: unknown }).partykit };
}

function parseJson5(text: string, label: string): unknown {
  try {
    return JSON5.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message.replace(/^JSON5: /, "") : String(error);
    throw new ConfigError(`${label}: invalid JSON: ${reason}`);
  }
}

function labelFor(cwd: string, path: string): string {
  const rel = relative(cwd, path);
  // A path far above the cwd reads better absolute.
  const tooFarUp = rel.startsWith("..") && rel.split(/[\\/]/).length > 4;
  return rel === "" || tooFarUp ? path : rel;
}

function* ancestors(start: string): Generator<string> {
  let folder = resolve(start);
  while (true) {
    yield folder;
    const parent = dirname(folder);
    if (parent === folder) return;
    folder = parent;
  }
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
