/**
 * loadConfig: from a folder (and the CLI's flags) to a ResolvedConfig with absolute paths and
 * every default filled in. Paths written in the config file are relative to that file; paths
 * given on the command line are relative to the cwd.
 */
import { readFile, stat } from "node:fs/promises";
import { dirname, join, relative, resolve } from "node:path";
import { findConfig } from "./discover.js";
import { parseDotenv } from "./dotenv.js";
import { ConfigError } from "./errors.js";
import type {
  Mode,
  PartykitConfig,
  ResolvedClientBuild,
  ResolvedConfig,
  ResolvedCustomBuild,
  ResolvedServe,
  ServeConfig,
} from "./types.js";
import { parseSize } from "./size.js";
import { validateConfig } from "./validate.js";
import { resolveWorkers } from "./workers.js";

export const DEFAULT_PORT = 1999;
/** Dev stays on loopback so a laptop on café Wi-Fi does not expose it; start is for servers. */
export const DEFAULT_HOST: Record<Mode, string> = { dev: "127.0.0.1", start: "0.0.0.0" };
export const DEFAULT_PERSIST_FOLDER = ".partyhouse";

export interface ConfigOverrides {
  port?: number;
  host?: string;
  /** A folder (relative to the cwd), true for the default folder, or false for memory only. */
  persist?: string | boolean;
  /** `--var` values: strings, as PartyKit passes them (only config `vars` keep JSON types). */
  vars?: Record<string, string>;
  /** `--with-env`: also define each `.env` key as a global constant in the bundle. */
  withEnv?: boolean;
  /** `--define` entries (JS source text), applied over the config's `define`. */
  define?: Record<string, string>;
  /** `--serve <dir>`: the static assets folder, relative to the cwd. */
  serve?: string;
  minify?: boolean;
  /** `--cluster <url>` (over PARTYHOUSE_CLUSTER, over the config's `cluster`). */
  cluster?: string;
  /** `--advertise <host:port>`: how other cluster nodes reach this one. */
  advertise?: string;
  /** `--cluster-cert`, `--cluster-key`, `--cluster-ca`: mutual TLS between nodes (relative to the cwd). */
  clusterTls?: { cert?: string; key?: string; ca?: string };
  maxBodyBytes?: number;
  allowedOrigins?: string[];
  trustProxy?: boolean;
  maxEventMs?: number;
  /** `--workers <n|auto>`. */
  workers?: number | "auto";
}

export interface LoadConfigOptions {
  cwd: string;
  /** `-c/--config`: a config file (or package.json), relative to cwd. */
  configPath?: string;
  /** The positional `[script]`: replaces `main`, relative to cwd. */
  script?: string;
  mode: Mode;
  overrides?: ConfigOverrides;
}

export async function loadConfig(options: LoadConfigOptions): Promise<ResolvedConfig> {
  const cwd = resolve(options.cwd);
  const overrides = options.overrides ?? {};
  const found = await findConfig(cwd, options.configPath);
  if (!found && options.script === undefined) {
    throw new ConfigError(
      `no partykit.json found in ${cwd} or its parent folders (create one, pass -c <file>, or name a script)`,
    );
  }
  const label = found?.label ?? "command line";
  const { config, warnings, ignoredKeys } = found
    ? validateConfig(found.raw, found.label)
    : { config: {}, warnings: [], ignoredKeys: [] };
  const root = found ? dirname(found.path) : cwd;

  const main = await resolveMain(config, label, root, cwd, options.script);
  const parties: Record<string, string> = {};
  for (const [name, file] of Object.entries(config.parties ?? {})) {
    parties[name] = await existingFile(resolve(root, file), `${label}: "parties.${name}" points to a missing file: ${file}`);
  }

  const dotenv = await readDotenvFiles(root, options.mode);
  const vars: Record<string, unknown> = { ...config.vars, ...dotenv };
  Object.assign(vars, overrides.vars);

  const resolved: ResolvedConfig = {
    mode: options.mode,
    configPath: found?.path ?? null,
    root,
    main,
    parties,
    port: overrides.port ?? config.port ?? DEFAULT_PORT,
    host: overrides.host ?? DEFAULT_HOST[options.mode],
    persist: resolvePersist(config.persist, overrides.persist, root, cwd),
    workers: resolveWorkers(overrides.workers ?? config.workers),
    vars,
    dotenv,
    define: { ...config.define, ...overrides.define },
    withEnv: overrides.withEnv ?? false,
    minify: overrides.minify ?? config.minify ?? false,
    crons: { ...config.crons },
    trustProxy: overrides.trustProxy ?? config.trustProxy ?? false,
    compatibilityFlags: [...(config.compatibilityFlags ?? [])],
    warnings,
    ignoredKeys,
  };
  // The URL may carry a password: the environment keeps it out of files and argv.
  const clusterUrl = overrides.cluster ?? process.env.PARTYHOUSE_CLUSTER ?? dotenv.PARTYHOUSE_CLUSTER ?? config.cluster;
  if (typeof clusterUrl === "string" && clusterUrl !== "") {
    const tls = clusterTls(overrides.clusterTls, cwd, config.clusterTls, root);
    resolved.cluster = { url: clusterUrl, ...(overrides.advertise !== undefined ? { advertise: overrides.advertise } : {}), ...(tls ? { tls } : {}) };
  } else if (overrides.advertise !== undefined) {
    throw new ConfigError("--advertise only means something with --cluster (or PARTYHOUSE_CLUSTER)");
  } else if (overrides.clusterTls !== undefined) {
    throw new ConfigError("--cluster-cert/--cluster-key/--cluster-ca only mean something with --cluster (or PARTYHOUSE_CLUSTER)");
  }
  if (config.name !== undefined) resolved.name = config.name;
  if (config.admin !== undefined) resolved.admin = { ...config.admin };
  const maxBodyBytes = overrides.maxBodyBytes ?? (config.maxBodySize !== undefined ? parseSize(config.maxBodySize) : null);
  if (maxBodyBytes !== null && maxBodyBytes !== undefined) resolved.maxBodyBytes = maxBodyBytes;
  const allowedOrigins = overrides.allowedOrigins ?? config.allowedOrigins;
  if (allowedOrigins !== undefined) resolved.allowedOrigins = allowedOrigins;
  if (config.proxyGeoHeaders !== undefined) {
    resolved.proxyGeoHeaders = { ...config.proxyGeoHeaders };
    if (!resolved.trustProxy) warnings.push(`${label}: "proxyGeoHeaders" is only read with trustProxy (or --trust-proxy); request.cf gets no geo fields`);
  }
  const maxEventMs = overrides.maxEventMs ?? config.maxEventMs;
  if (maxEventMs !== undefined) resolved.maxEventMs = maxEventMs;
  if (config.compatibilityDate !== undefined) resolved.compatibilityDate = config.compatibilityDate;
  const serve = await resolveServe(config.serve, overrides.serve, label, root, cwd, options.mode);
  if (serve?.build?.live) warnings.push(`${label}: "serve.build.live" (live reload) is not supported yet; reload the page yourself`);
  if (serve) resolved.serve = serve;
  if (config.build) resolved.build = resolveCustomBuild(config.build, root);
  return resolved;
}

async function resolveMain(
  config: PartykitConfig,
  label: string,
  root: string,
  cwd: string,
  script: string | undefined,
): Promise<string> {
  if (script !== undefined) return existingFile(resolve(cwd, script), `script not found: ${script}`);
  if (config.main === undefined) {
    throw new ConfigError(`${label}: "main" is missing (set it to your server file, or pass one: partyhouse dev src/server.ts)`);
  }
  return existingFile(resolve(root, config.main), `${label}: "main" points to a missing file: ${config.main}`);
}

function resolvePersist(
  fromConfig: boolean | string | undefined,
  fromFlag: boolean | string | undefined,
  root: string,
  cwd: string,
): string | false {
  const defaultFolder = join(root, DEFAULT_PERSIST_FOLDER);
  if (fromFlag !== undefined) {
    if (fromFlag === false) return false;
    return fromFlag === true ? defaultFolder : resolve(cwd, fromFlag);
  }
  if (fromConfig === false) return false;
  return typeof fromConfig === "string" ? resolve(root, fromConfig) : defaultFolder;
}

/** `.env`, then `.env.local` over it in dev only (it holds a developer's own secrets). */
async function readDotenvFiles(root: string, mode: Mode): Promise<Record<string, string>> {
  const names = mode === "dev" ? [".env", ".env.local"] : [".env"];
  const merged: Record<string, string> = {};
  for (const name of names) {
    const text = await readOptional(join(root, name));
    if (text !== null) Object.assign(merged, parseDotenv(text));
  }
  return merged;
}

async function resolveServe(
  fromConfig: string | ServeConfig | undefined,
  fromFlag: string | undefined,
  label: string,
  root: string,
  cwd: string,
  mode: Mode,
): Promise<ResolvedServe | undefined> {
  if (fromConfig === undefined && fromFlag === undefined) return undefined;
  const settings: ServeConfig = typeof fromConfig === "object" ? fromConfig : { path: fromConfig ?? "" };
  const path = fromFlag !== undefined ? resolve(cwd, fromFlag) : resolve(root, settings.path);
  const serve: ResolvedServe = {
    path,
    singlePageApp: settings.singlePageApp ?? false,
    browserTTL: settings.browserTTL ?? null,
    edgeTTL: settings.edgeTTL ?? null,
  };
  if (settings.build !== undefined) {
    serve.build = resolveClientBuild(settings.build, label, root, path, mode);
  } else if (!(await isFolder(path))) {
    // With a client build the folder may be created by it; without one, a typo would serve nothing.
    const shown = fromFlag ?? relative(root, path);
    throw new ConfigError(`${fromFlag !== undefined ? "--serve" : `${label}: "serve"`} folder not found: ${shown}`);
  }
  return serve;
}

function resolveClientBuild(
  build: NonNullable<ServeConfig["build"]>,
  label: string,
  root: string,
  servePath: string,
  mode: Mode,
): ResolvedClientBuild {
  const settings = typeof build === "string" ? { entry: build } : build;
  if (settings.entry === undefined) throw new ConfigError(`${label}: "serve.build.entry" is required`);
  const entries = typeof settings.entry === "string" ? [settings.entry] : settings.entry;
  const format = settings.format ?? "esm";
  return {
    entry: entries.map((entry) => resolve(root, entry)),
    bundle: settings.bundle ?? true,
    // esbuild only splits ES modules.
    splitting: format === "esm" && (settings.splitting ?? true),
    outdir: settings.outdir !== undefined ? resolve(root, settings.outdir) : join(servePath, "dist"),
    minify: settings.minify ?? mode === "start",
    format,
    sourcemap: settings.sourcemap ?? true,
    define: { ...settings.define },
    external: [...(settings.external ?? [])],
    alias: { ...settings.alias },
    loader: { ...settings.loader },
    live: settings.live ?? false,
  };
}

function resolveCustomBuild(build: NonNullable<PartykitConfig["build"]>, root: string): ResolvedCustomBuild {
  const watch = build.watch ?? (build.command !== undefined ? "./src" : []);
  const resolved: ResolvedCustomBuild = {
    cwd: resolve(root, build.cwd ?? "."),
    watch: (typeof watch === "string" ? [watch] : watch).map((folder) => resolve(root, folder)),
    alias: { ...build.alias },
  };
  if (build.command !== undefined) resolved.command = build.command;
  return resolved;
}

async function existingFile(path: string, message: string): Promise<string> {
  try {
    if ((await stat(path)).isFile()) return path;
  } catch {
    // reported below
  }
  throw new ConfigError(message);
}

async function isFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

async function readOptional(path: string): Promise<string | null> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

/**
 * TLS between cluster nodes: the flags (relative to the cwd) over `clusterTls` in the config
 * (relative to its folder); all three files or none.
 */
function clusterTls(
  flags: { cert?: string; key?: string; ca?: string } | undefined,
  cwd: string,
  config: { cert: string; key: string; ca: string } | undefined,
  root: string,
): { cert: string; key: string; ca: string } | undefined {
  const pick = (name: "cert" | "key" | "ca") => (flags?.[name] !== undefined ? resolve(cwd, flags[name]!) : config ? resolve(root, config[name]) : undefined);
  const [cert, key, ca] = [pick("cert"), pick("key"), pick("ca")];
  if (cert === undefined && key === undefined && ca === undefined) return undefined;
  if (cert === undefined || key === undefined || ca === undefined) {
    throw new ConfigError("TLS between cluster nodes needs a certificate, its key and the CA: --cluster-cert, --cluster-key and --cluster-ca (or all three in clusterTls)");
  }
  return { cert, key, ca };
}
