/**
 * Checks a parsed `partykit.json` against PartyKit's schema: every documented key is accepted
 * and type-checked, an unknown key is an error naming it, and keys that only mean something on
 * Cloudflare are listed (the CLI notes them in one line) instead of silently doing nothing.
 */
import { Checker, type JsonObject } from "./check.js";
import { validateAdmin } from "./admin.js";
import { validateProxyGeoHeaders } from "./proxy-geo.js";
import { parseSize } from "./size.js";
import { validateWorkers } from "./workers.js";
import type {
  ClientBuildConfig,
  ClientBuildFormat,
  CustomBuildConfig,
  LoaderName,
  PartykitConfig,
  ServeConfig,
} from "./types.js";

/** Deploy-time or Cloudflare-binding keys: accepted so existing files validate, then ignored. */
export const CLOUDFLARE_ONLY_KEYS = [
  "team",
  "preview",
  "domain",
  "ai",
  "vectorize",
  "bindings",
  "logpush",
  "tailConsumers",
  "analytics",
  "placement",
  "observability",
  "compatibilityDate",
  "compatibilityFlags",
] as const;

/** Keys only partyhouse reads: exposure limits for running on your own machines. */
export const PARTYHOUSE_KEYS = ["maxBodySize", "allowedOrigins", "trustProxy", "proxyGeoHeaders", "maxEventMs", "workers"] as const;

const TOP_LEVEL_KEYS = [
  "$schema",
  "name",
  "main",
  "parties",
  "port",
  "persist",
  "cluster",
  "clusterTls",
  "vars",
  "define",
  "serve",
  "build",
  "minify",
  "crons",
  "admin",
  ...PARTYHOUSE_KEYS,
  ...CLOUDFLARE_ONLY_KEYS,
];

/** Party names as PartyKit allows them (they become URL segments and export names). */
export const PARTY_NAME = /^[a-z0-9_-]+$/;
/** Project names: the schema's rule and the loader's "valid url path" rule together. */
const PROJECT_NAME = /^[a-z0-9-]+$/;

const LOADERS: readonly LoaderName[] = [
  "base64",
  "binary",
  "copy",
  "css",
  "dataurl",
  "default",
  "empty",
  "file",
  "js",
  "json",
  "jsx",
  "local-css",
  "text",
  "ts",
  "tsx",
];

export interface ValidationResult {
  config: PartykitConfig;
  warnings: string[];
  /** The Cloudflare-only keys the file sets, in CLOUDFLARE_ONLY_KEYS order. */
  ignoredKeys: string[];
}

export function validateConfig(raw: unknown, label: string): ValidationResult {
  const check = new Checker(label);
  if (!check.isObject(raw)) check.fail("(top level)", "must be an object");
  const input = check.strictObject(raw, "", TOP_LEVEL_KEYS);
  const config: PartykitConfig = {};
  const warnings: string[] = [];

  if (input.$schema !== undefined) config.$schema = check.string(input.$schema, "$schema");
  if (input.name !== undefined) {
    const name = check.string(input.name, "name");
    if (!PROJECT_NAME.test(name)) check.fail("name", "may only contain lowercase letters, digits and -");
    config.name = name;
  }
  if (input.main !== undefined) config.main = check.string(input.main, "main");
  if (input.parties !== undefined) config.parties = validateParties(check, input.parties);
  if (input.port !== undefined) config.port = check.port(input.port, "port");
  if (input.persist !== undefined) {
    const persist = input.persist;
    if (typeof persist === "boolean" || typeof persist === "string") config.persist = persist;
    else check.fail("persist", "must be true, false or a folder path");
  }
  if (input.cluster !== undefined) config.cluster = check.string(input.cluster, "cluster");
  if (input.clusterTls !== undefined) {
    const tls = check.object(input.clusterTls, "clusterTls");
    config.clusterTls = { cert: check.string(tls.cert, "clusterTls.cert"), key: check.string(tls.key, "clusterTls.key"), ca: check.string(tls.ca, "clusterTls.ca") };
  }
  if (input.vars !== undefined) config.vars = { ...check.object(input.vars, "vars") };
  if (input.define !== undefined) config.define = check.stringRecord(input.define, "define");
  if (input.serve !== undefined) config.serve = validateServe(check, input.serve, warnings);
  if (input.build !== undefined) config.build = validateCustomBuild(check, input.build);
  if (input.minify !== undefined) config.minify = check.boolean(input.minify, "minify");
  if (input.crons !== undefined) config.crons = validateCrons(check, input.crons);
  if (input.admin !== undefined) config.admin = validateAdmin(check, input.admin);
  if (input.maxBodySize !== undefined) {
    const size = input.maxBodySize;
    if ((typeof size !== "number" && typeof size !== "string") || parseSize(size) === null) {
      return check.fail("maxBodySize", 'must be a number of bytes or a size like "100mb"');
    }
    config.maxBodySize = size;
  }
  if (input.allowedOrigins !== undefined) config.allowedOrigins = check.stringArray(input.allowedOrigins, "allowedOrigins");
  if (input.trustProxy !== undefined) config.trustProxy = check.boolean(input.trustProxy, "trustProxy");
  if (input.proxyGeoHeaders !== undefined) config.proxyGeoHeaders = validateProxyGeoHeaders(check, input.proxyGeoHeaders);
  if (input.maxEventMs !== undefined) {
    const ms = check.number(input.maxEventMs, "maxEventMs");
    if (!Number.isInteger(ms) || ms < 1) check.fail("maxEventMs", "must be a whole number of milliseconds (at least 1)");
    config.maxEventMs = ms;
  }
  if (input.workers !== undefined) config.workers = validateWorkers(check, input.workers);

  validateCloudflareOnly(check, input, config);
  // Not warnings: nearly every PartyKit project sets compatibilityDate, and there is nothing to fix.
  const ignoredKeys = CLOUDFLARE_ONLY_KEYS.filter((key) => input[key] !== undefined);
  return { config, warnings, ignoredKeys };
}

function validateParties(check: Checker, value: unknown): Record<string, string> {
  const parties = check.stringRecord(value, "parties");
  for (const name of Object.keys(parties)) {
    if (name === "main") check.fail("parties.main", 'is not allowed: "main" is the party named by "main"');
    if (!PARTY_NAME.test(name)) {
      check.fail(`parties.${name}`, "has an invalid party name (use lowercase letters, digits, _ and -)");
    }
  }
  return parties;
}

function validateServe(check: Checker, value: unknown, warnings: string[]): string | ServeConfig {
  if (typeof value === "string") return value;
  const input = check.lenientObject(value, "serve", [
    "path",
    "build",
    "browserTTL",
    "edgeTTL",
    "singlePageApp",
    "include",
    "exclude",
  ], warnings);
  if (input.path === undefined) check.fail("serve.path", "is required when serve is an object");
  const serve: ServeConfig = { path: check.string(input.path, "serve.path") };
  if (input.build !== undefined) serve.build = validateClientBuild(check, input.build, warnings);
  if (input.browserTTL !== undefined) serve.browserTTL = check.nullableNumber(input.browserTTL, "serve.browserTTL");
  if (input.edgeTTL !== undefined) serve.edgeTTL = check.nullableNumber(input.edgeTTL, "serve.edgeTTL");
  if (input.singlePageApp !== undefined) {
    serve.singlePageApp = check.boolean(input.singlePageApp, "serve.singlePageApp");
  }
  for (const key of ["include", "exclude"] as const) {
    if (input[key] === undefined) continue;
    serve[key] = check.stringArray(input[key], `serve.${key}`);
    warnings.push(`${check.label}: "serve.${key}" is not implemented (as in partykit dev); every file is served`);
  }
  return serve;
}

function validateClientBuild(check: Checker, value: unknown, warnings: string[]): string | ClientBuildConfig {
  if (typeof value === "string") return value;
  const input = check.lenientObject(value, "serve.build", [
    "entry",
    "bundle",
    "splitting",
    "outdir",
    "minify",
    "format",
    "sourcemap",
    "define",
    "external",
    "alias",
    "loader",
    "live",
  ], warnings);
  const build: ClientBuildConfig = {};
  const at = (key: string) => `serve.build.${key}`;
  if (input.entry !== undefined) build.entry = check.stringOrStringArray(input.entry, at("entry"));
  for (const key of ["bundle", "splitting", "minify", "sourcemap", "live"] as const) {
    if (input[key] !== undefined) build[key] = check.boolean(input[key], at(key));
  }
  if (input.outdir !== undefined) build.outdir = check.string(input.outdir, at("outdir"));
  if (input.format !== undefined) build.format = check.oneOf<ClientBuildFormat>(input.format, at("format"), ["esm", "cjs", "iife"]);
  if (input.define !== undefined) build.define = check.stringRecord(input.define, at("define"));
  if (input.external !== undefined) build.external = check.stringArray(input.external, at("external"));
  if (input.alias !== undefined) build.alias = check.stringRecord(input.alias, at("alias"));
  if (input.loader !== undefined) {
    const loader: Record<string, LoaderName> = {};
    for (const [ext, name] of Object.entries(check.object(input.loader, at("loader")))) {
      loader[ext] = check.oneOf(name, `${at("loader")}.${ext}`, LOADERS);
    }
    build.loader = loader;
  }
  return build;
}

function validateCustomBuild(check: Checker, value: unknown): CustomBuildConfig {
  const input = check.strictObject(value, "build", ["command", "cwd", "watch", "alias"]);
  const build: CustomBuildConfig = {};
  if (input.command !== undefined) build.command = check.string(input.command, "build.command");
  if (input.cwd !== undefined) build.cwd = check.string(input.cwd, "build.cwd");
  if (input.watch !== undefined) build.watch = check.stringOrStringArray(input.watch, "build.watch");
  if (input.alias !== undefined) build.alias = check.stringRecord(input.alias, "build.alias");
  return build;
}

/** Five fields, as Cloudflare cron triggers take them; the scheduler checks the fields' values. */
function validateCrons(check: Checker, value: unknown): Record<string, string> {
  const crons = check.stringRecord(value, "crons");
  for (const [name, expression] of Object.entries(crons)) {
    if (expression.trim().split(/\s+/).length !== 5) {
      check.fail(`crons.${name}`, `must be a cron expression with 5 fields, got "${expression}"`);
    }
  }
  return crons;
}

/** Loose type checks: enough that a typo'd type is caught, without modelling Cloudflare's APIs. */
function validateCloudflareOnly(check: Checker, input: JsonObject, config: PartykitConfig): void {
  for (const key of ["team", "preview", "domain", "compatibilityDate"] as const) {
    if (input[key] !== undefined) config[key] = check.string(input[key], key);
  }
  if (input.compatibilityFlags !== undefined) {
    config.compatibilityFlags = check.stringArray(input.compatibilityFlags, "compatibilityFlags");
  }
  if (input.tailConsumers !== undefined) {
    config.tailConsumers = check.stringArray(input.tailConsumers, "tailConsumers");
  }
  if (input.ai !== undefined) {
    if (typeof input.ai !== "boolean") check.object(input.ai, "ai");
    config.ai = input.ai;
  }
  for (const key of ["vectorize", "bindings", "placement", "observability"] as const) {
    if (input[key] !== undefined) config[key] = check.object(input[key], key);
  }
  for (const key of ["logpush", "analytics"] as const) {
    if (input[key] !== undefined) {
      if (typeof input[key] !== "boolean") check.object(input[key], key);
      config[key] = input[key];
    }
  }
}
