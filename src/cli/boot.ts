/**
 * Boot shared by `dev` and `start`, in two steps: load the config (and say its warnings), then,
 * given a first server bundle, start the client build, storage and server. Everything opened
 * is closed again if a later step fails, so a failed start leaves no lock on the data folder
 * and no port bound.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { startClientBuild, type BundleResult, type ClientBuild } from "../build/index.js";
import { loadConfig } from "../config/load.js";
import type { ResolvedConfig } from "../config/types.js";
import { describeError, type Logger } from "../runtime/logger.js";
import type { ClusterServerOptions, PartyExports, PartyhouseOptions } from "../server/options.js";
import type { Socket } from "node:net";
import type { ConnectionObserver } from "../server/accept-connection.js";
import { startWatchdog } from "../runtime/watchdog.js";
import type { RunCommand } from "./args.js";
import type { AdminOptions } from "../admin/options.js";
import { ConfigError } from "../config/errors.js";
import { FORCED_EXIT_AFTER_MS } from "./shutdown.js";
import { noteIgnoredKeys } from "./ignored-keys-note.js";
// Registers LazyResponse and the bundles' Request before any bundle is imported: bundles pick
// them up as their Response and Request when they load (src/build/web-globals.ts).
import "../server/lazy-response.js";
import "../server/lazy-request.js";
// Registers WebSocketPair, URLPattern, scheduler, … for the same reason (src/build/workerd-globals.ts).
import "../globals/registry.js";

export interface RunningProject {
  /** A URL clients can open (for a wildcard bind address, the loopback one). */
  url: string;
  /** The port it listens on (the one chosen, for `--port 0`). */
  port: number;
  /** The ready line's text after "partyhouse ready on ". */
  readyText: string;
  reload(parties: PartyExports): Promise<void>;
  /** Serves a connection accepted elsewhere (a worker's, from its supervisor), watched by `observer`. */
  accept(socket: Socket, observer?: ConnectionObserver): void;
  /** The admin listener's URL, when one was asked for. */
  adminUrl: string | undefined;
  /** Stops the client build, the server, and storage (flushed). */
  close(): Promise<void>;
}

/** What a worker of `partyhouse start --workers N` changes (src/workers/worker.ts). */
export interface WorkerBoot {
  /** Placement by the supervisor, forwarding to the other workers. */
  readonly routing: ClusterServerOptions;
  /** The SQLite folder the workers share (the supervisor's: a temporary one for `--persist false`). */
  readonly dataFolder: string;
}

/** Where server bundles go: under the project, never inside the user's data folder. */
export function bundleFolder(config: ResolvedConfig): string {
  return join(config.root, ".partyhouse", "build");
}

/** What clients should use to reach this server: a wildcard bind address is not one. */
export function partykitHostFor(host: string, port: number): string {
  if (host === "0.0.0.0" || host === "") return `127.0.0.1:${port}`;
  if (host === "::") return `[::1]:${port}`;
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * How other cluster nodes reach this one: `--advertise`, else the listen address when it is a
 * concrete one (not a wildcard, not port 0).
 */
export function advertisedAddress(advertise: string | undefined, host: string, port: number): string {
  if (advertise !== undefined) return advertise;
  if (host === "0.0.0.0" || host === "::" || host === "" || port === 0) {
    throw new ConfigError(
      `cluster mode needs --advertise <host:port> when listening on ${host || "all interfaces"}:${port} (other nodes must know where to reach this one)`,
    );
  }
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Loads a bundle; its named exports are the parties. */
export async function importParties(bundle: BundleResult): Promise<PartyExports> {
  const parties = { ...((await import(pathToFileURL(bundle.file).href)) as PartyExports) };
  if (parties.main === undefined || parties.main === null) {
    throw new Error("the main party module has no default export");
  }
  return parties;
}

export async function loadProjectConfig(command: RunCommand, cwd: string, logger: Logger): Promise<ResolvedConfig> {
  const config = await loadConfig({
    cwd,
    mode: command.mode,
    overrides: command.overrides,
    ...(command.configPath !== undefined ? { configPath: command.configPath } : {}),
    ...(command.script !== undefined ? { script: command.script } : {}),
  });
  for (const warning of config.warnings) logger.log("warn", warning);
  noteIgnoredKeys(config.ignoredKeys, logger);
  return config;
}

export async function startProject(
  config: ResolvedConfig,
  parties: PartyExports,
  logger: Logger,
  command: Pick<RunCommand, "hibernateAfterMs" | "clusterLeaseMs">,
  admin?: AdminOptions,
  worker?: WorkerBoot,
): Promise<RunningProject> {
  const cleanups: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  // Off the main thread: names a handler that blocks the loop, ends the process past
  // maxEventMs, and keeps SIGTERM working while the loop is blocked (runtime/watchdog.ts).
  const watchdog = startWatchdog({
    ...(config.maxEventMs !== undefined ? { maxEventMs: config.maxEventMs } : {}),
    format: config.mode === "start" ? "json" : "pretty",
    logger,
  });
  cleanups.push(() => watchdog.stop());
  try {
    if (config.serve?.build) {
      const client: ClientBuild = await startClientBuild(config, config.serve.build, {
        host: partykitHostFor(config.host, config.port),
        watch: config.mode === "dev",
        onError: (error) => logger.log("error", "client build failed", describeError(error)),
        onBuild: () => logger.log("debug", "client rebuilt"),
      });
      cleanups.push(() => client.close());
    }

    // Loaded only now, so config and build errors are reported without loading the server.
    const { createStorageService } = await import("../storage/index.js");
    const { startPartyhouse } = await import("../server/index.js");
    let cluster: import("../cluster/index.js").Cluster | undefined;
    let clusterRouting!: typeof import("../cluster/index.js").clusterRouting;
    let peerTls: import("../cluster/index.js").PeerTls | undefined;
    if (config.cluster) {
      const { startCluster, clusterRouting: routing, readPeerTls } = await import("../cluster/index.js");
      clusterRouting = routing;
      // Read before anything starts, so a missing file is an error at once.
      if (config.cluster.tls) peerTls = readPeerTls(config.cluster.tls);
      cluster = await startCluster({
        url: config.cluster.url,
        advertise: advertisedAddress(config.cluster.advertise, config.host, config.port),
        logger,
        ...(command.clusterLeaseMs !== undefined ? { leaseMs: command.clusterLeaseMs } : {}),
      });
      // Runs after the server closed and flushed storage (cleanups run in reverse).
      const started = cluster;
      cleanups.push(() => started.close());
    }
    const storage =
      cluster?.storage ??
      (await createStorageService(
        worker !== undefined
          ? { kind: "sqlite", dir: worker.dataFolder, shared: true }
          : config.persist === false
            ? { kind: "memory" }
            : { kind: "sqlite", dir: join(config.persist, "data") },
      ));
    const options: PartyhouseOptions & { dev: boolean } = {
      parties,
      env: config.vars,
      storage,
      // A worker listens on loopback only, for its peers; clients come through its supervisor.
      host: worker ? "127.0.0.1" : config.host,
      port: worker ? 0 : config.port,
      crons: config.crons,
      logger,
      ...(command.hibernateAfterMs !== undefined ? { hibernateAfterMs: command.hibernateAfterMs } : {}),
      // A cluster node is ready only while it holds its lease and reaches the database.
      ...(admin ? { admin: new (await import("../admin/server.js")).AdminListener(cluster ? { ...admin, readiness: [...(admin.readiness ?? []), cluster.readiness] } : admin) } : {}),
      dev: config.mode === "dev",
      // The parties come from a partyhouse bundle, whose Request and fetch accept a LazyRequest.
      lazyRequests: true,
      // One placement for both halves: the router asks it where rooms live and forwards there; the
      // runtime claims through it before building an instance (src/cluster/README.md).
      // Rooms go where their clients arrive, judged over half a lease (5 s by default).
      ...(cluster ? { cluster: clusterRouting(cluster.directory, { rebalanceEveryMs: cluster.membership.leaseMs / 2, ...(peerTls ? { tls: peerTls } : {}) }) } : {}),
      ...(worker ? { cluster: worker.routing } : {}),
      trustProxy: config.trustProxy,
      ...(config.proxyGeoHeaders !== undefined ? { proxyGeoHeaders: config.proxyGeoHeaders } : {}),
    };
    if (config.maxBodyBytes !== undefined) options.maxBodyBytes = config.maxBodyBytes;
    if (config.allowedOrigins !== undefined) options.allowedOrigins = config.allowedOrigins;
    if (config.serve) {
      options.assets = {
        root: config.serve.path,
        singlePageApp: config.serve.singlePageApp,
        browserTTL: config.serve.browserTTL,
        edgeTTL: config.serve.edgeTTL,
      };
    }
    let server;
    try {
      server = await startPartyhouse(options);
    } catch (error) {
      await storage.close().catch(() => undefined);
      throw error;
    }
    const running = server;
    cleanups.push(() => running.close());
    if (running.adminUrl) logger.log("info", "admin listener ready", { url: running.adminUrl });
    const url = `http://${partykitHostFor(config.host, running.port)}`;
    const wildcard = config.host === "0.0.0.0" || config.host === "::";
    return {
      url,
      port: running.port,
      readyText: wildcard ? `${url} (listening on all interfaces, ${config.host})` : url,
      reload: (next) => running.reload(next),
      accept: (socket, observer) => running.accept(socket, observer),
      adminUrl: running.adminUrl,
      close: () => {
        // Bounded even if user code blocks the loop while we close (the worker enforces it).
        watchdog.shutdownStarted(FORCED_EXIT_AFTER_MS + 1_000);
        return closeAll();
      },
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
