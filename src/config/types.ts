/**
 * The shape of `partykit.json` as written by users (every key of the PartyKit schema), and the
 * resolved configuration the build and the CLI work from (absolute paths, defaults filled in).
 */
import type { AdminConfig } from "./admin.js";
import type { ProxyGeoHeaders } from "../server/proxy-geo.js";

export type Mode = "dev" | "start";

export type ClientBuildFormat = "esm" | "cjs" | "iife";

/** esbuild loader names allowed in `serve.build.loader`. */
export type LoaderName =
  | "base64"
  | "binary"
  | "copy"
  | "css"
  | "dataurl"
  | "default"
  | "empty"
  | "file"
  | "js"
  | "json"
  | "jsx"
  | "local-css"
  | "text"
  | "ts"
  | "tsx";

export interface ClientBuildConfig {
  entry?: string | string[];
  bundle?: boolean;
  splitting?: boolean;
  outdir?: string;
  minify?: boolean;
  format?: ClientBuildFormat;
  sourcemap?: boolean;
  define?: Record<string, string>;
  external?: string[];
  alias?: Record<string, string>;
  loader?: Record<string, LoaderName>;
  live?: boolean;
}

export interface ServeConfig {
  path: string;
  build?: string | ClientBuildConfig;
  browserTTL?: number | null;
  edgeTTL?: number | null;
  singlePageApp?: boolean;
  include?: string[];
  exclude?: string[];
}

export interface CustomBuildConfig {
  command?: string;
  cwd?: string;
  watch?: string | string[];
  alias?: Record<string, string>;
}

/** `partykit.json` after validation. Keys that only mean something on Cloudflare keep `unknown`. */
export interface PartykitConfig {
  $schema?: string;
  name?: string;
  main?: string;
  parties?: Record<string, string>;
  port?: number;
  persist?: boolean | string;
  /** partyhouse only: postgres:// URL of the cluster database (better: PARTYHOUSE_CLUSTER). */
  cluster?: string;
  /** partyhouse only: mutual TLS between cluster nodes, PEM files relative to this file. */
  clusterTls?: { cert: string; key: string; ca: string };
  vars?: Record<string, unknown>;
  define?: Record<string, string>;
  serve?: string | ServeConfig;
  build?: CustomBuildConfig;
  compatibilityDate?: string;
  compatibilityFlags?: string[];
  minify?: boolean;
  crons?: Record<string, string>;
  /** partyhouse only: the admin listener's port (and host). */
  admin?: AdminConfig;
  /** partyhouse only: largest request body (bytes, or "100mb"). */
  maxBodySize?: number | string;
  /** partyhouse only: Origins allowed to open WebSockets and send requests ("*" = any). */
  allowedOrigins?: string[];
  /** partyhouse only: believe client-address and geo headers from a proxy in front. */
  trustProxy?: boolean;
  /** partyhouse only: with trustProxy, the headers `request.cf`'s geo fields come from. */
  proxyGeoHeaders?: ProxyGeoHeaders;
  /** partyhouse only: an event that blocks the event loop longer than this ends the process. */
  maxEventMs?: number;
  /** partyhouse only: worker processes of `partyhouse start` (a number, or "auto" = available cores). */
  workers?: number | "auto";
  team?: string;
  preview?: string;
  domain?: string;
  ai?: unknown;
  vectorize?: unknown;
  bindings?: unknown;
  logpush?: unknown;
  tailConsumers?: unknown;
  analytics?: unknown;
  placement?: unknown;
  observability?: unknown;
}

export interface ResolvedClientBuild {
  /** Absolute entry points. */
  entry: string[];
  bundle: boolean;
  splitting: boolean;
  /** Absolute; default `<serve.path>/dist`. */
  outdir: string;
  minify: boolean;
  format: ClientBuildFormat;
  sourcemap: boolean;
  define: Record<string, string>;
  external: string[];
  alias: Record<string, string>;
  loader: Record<string, LoaderName>;
  live: boolean;
}

export interface ResolvedServe {
  /** Absolute folder of static assets. */
  path: string;
  singlePageApp: boolean;
  browserTTL: number | null;
  edgeTTL: number | null;
  build?: ResolvedClientBuild;
}

export interface ResolvedCustomBuild {
  command?: string;
  /** Absolute; where `command` runs (default: the config folder). */
  cwd: string;
  /** Absolute folders whose changes rerun `command` and rebuild (default `./src` with a command). */
  watch: string[];
  alias: Record<string, string>;
}

export interface ResolvedConfig {
  mode: Mode;
  /** Absolute path of the file the config came from (a package.json for `#partykit`), or null. */
  configPath: string | null;
  /** Folder paths in the config are relative to (the config's folder, else the cwd). */
  root: string;
  name?: string;
  /** Absolute path of the `main` party's module. */
  main: string;
  /** The other parties: name to absolute module path ("main" never appears here). */
  parties: Record<string, string>;
  port: number;
  /** Bind address: 127.0.0.1 for dev (not reachable from the network by surprise), 0.0.0.0 for start. */
  host: string;
  /** Absolute data folder, or false for in-memory storage. */
  persist: string | false;
  /** Cluster mode: storage and room ownership in this PostgreSQL database (src/cluster). */
  cluster?: { url: string; advertise?: string; tls?: { cert: string; key: string; ca: string } };
  /** `room.env`: config vars (JSON types kept) < .env < .env.local (dev) < --var (strings). */
  vars: Record<string, unknown>;
  /** `.env` (+ `.env.local` in dev) as read: copied into `process.env` where the host environment does not set the key. */
  dotenv: Record<string, string>;
  /** esbuild defines: config `define` < `--define` (values are JS source text). */
  define: Record<string, string>;
  /** `--with-env`: each `.env` key is also a global constant in the bundle (PartyKit's flag). */
  withEnv: boolean;
  serve?: ResolvedServe;
  build?: ResolvedCustomBuild;
  minify: boolean;
  /** Cron name to expression, for `onCron`. */
  crons: Record<string, string>;
  /** The admin listener from the config (flags may override it). */
  admin?: AdminConfig;
  /** Largest request body in bytes (`maxBodySize`, `--max-body-size`); undefined = the default. */
  maxBodyBytes?: number;
  /** `allowedOrigins` / `--allowed-origins`; undefined = every Origin. */
  allowedOrigins?: string[];
  /** `trustProxy` / `--trust-proxy`. */
  trustProxy: boolean;
  /** `proxyGeoHeaders` as written (Cloudflare's header names fill the rest); read only with trustProxy. */
  proxyGeoHeaders?: ProxyGeoHeaders;
  /** `maxEventMs` / `--max-event-ms`; undefined = the default. */
  maxEventMs?: number;
  /** `workers` / `--workers`, "auto" resolved to the available cores; 1 = one process, as before. */
  workers: number;
  compatibilityDate?: string;
  compatibilityFlags: string[];
  /** Things worth telling the user once (e.g. unknown keys inside `serve`). */
  warnings: string[];
  /** Cloudflare-only keys the config sets (`compatibilityDate`, `ai`, …): accepted, then ignored. */
  ignoredKeys: string[];
}
