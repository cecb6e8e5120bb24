/**
 * Boot shared by `dev` and `start`: config, server bundle, storage, server, client bundle.
 * Everything opened is closed again if a later step fails, so a failed start leaves no lock
 * on the data folder and no port bound.
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { bundleProject, startClientBuild, type BundleResult, type ClientBuild } from "../build/index.js";
import { loadConfig } from "../config/load.js";
import type { ResolvedConfig } from "../config/types.js";
import { describeError, type Logger } from "../runtime/logger.js";
import type { PartyExports, PartyhouseOptions } from "../server/options.js";
import type { RunCommand } from "./args.js";

export interface RunningProject {
  config: ResolvedConfig;
  /** A URL clients can open (for a wildcard bind address, the loopback one). */
  url: string;
  /** The ready line's text after "partyhouse ready on ". */
  readyText: string;
  /** The first server bundle (dev watches its inputs). */
  bundle: BundleResult;
  /** Where server bundles are written. */
  outdir: string;
  /** `PARTYKIT_HOST` as baked into the bundles. */
  partykitHost: string;
  reload(parties: PartyExports): Promise<void>;
  /** Stops the client build, the server, and storage (flushed). */
  close(): Promise<void>;
}

/** The folder (under the project) where server bundles go; never the user's data folder. */
export function bundleFolder(config: ResolvedConfig): string {
  return join(config.root, ".partyhouse", "build");
}

/** Loads a bundle; its named exports are the parties. */
export async function importParties(file: string): Promise<PartyExports> {
  const parties = { ...((await import(pathToFileURL(file).href)) as PartyExports) };
  if (parties.main === undefined || parties.main === null) {
    throw new Error("the main party module has no default export");
  }
  return parties;
}

/** What clients should use to reach this server: a wildcard bind address is not one. */
export function partykitHostFor(host: string, port: number): string {
  if (host === "0.0.0.0" || host === "") return `127.0.0.1:${port}`;
  if (host === "::") return `[::1]:${port}`;
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

export async function bootProject(command: RunCommand, cwd: string, logger: Logger): Promise<RunningProject> {
  const config = await loadConfig({
    cwd,
    mode: command.mode,
    overrides: command.overrides,
    ...(command.configPath !== undefined ? { configPath: command.configPath } : {}),
    ...(command.script !== undefined ? { script: command.script } : {}),
  });
  for (const warning of config.warnings) logger.log("warn", warning);

  const partykitHost = partykitHostFor(config.host, config.port);
  const outdir = bundleFolder(config);
  const bundle = await bundleProject(config, { outdir, host: partykitHost });
  const parties = await importParties(bundle.file);

  const cleanups: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };
  try {
    let client: ClientBuild | undefined;
    if (config.serve?.build) {
      client = await startClientBuild(config, config.serve.build, {
        host: partykitHost,
        watch: command.mode === "dev",
        onError: (error) => logger.log("error", "client build failed", describeError(error)),
        onBuild: () => logger.log("debug", "client rebuilt"),
      });
      cleanups.push(() => (client as ClientBuild).close());
    }

    // Loaded after config and bundle, so their errors are reported without loading the server.
    const { createStorageService } = await import("../storage/index.js");
    const { startPartyhouse } = await import("../server/index.js");
    const storage = await createStorageService(
      config.persist === false ? { kind: "memory" } : { kind: "sqlite", dir: join(config.persist, "data") },
    );
    const options: PartyhouseOptions & { dev: boolean } = {
      parties,
      env: config.vars,
      storage,
      host: config.host,
      port: config.port,
      crons: config.crons,
      logger,
      dev: command.mode === "dev",
    };
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
    const url = `http://${partykitHostFor(config.host, running.port)}`;
    const wildcard = config.host === "0.0.0.0" || config.host === "::";
    return {
      config,
      url,
      readyText: wildcard ? `${url} (listening on all interfaces, ${config.host})` : url,
      bundle,
      outdir,
      partykitHost,
      reload: (next) => running.reload(next),
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
