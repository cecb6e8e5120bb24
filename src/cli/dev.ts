/**
 * `partyhouse dev`: one watcher for the whole session. The first good build starts the server
 * (until then, build errors are shown and a fix is awaited, as `partykit dev` does); each later
 * good build is imported and handed to the server (rooms reload, storage kept). A failed build,
 * or a module that throws while loading, is logged and the previous code keeps serving.
 *
 * Run as the child of dev-supervisor.ts, it also keeps count of the bundle bytes it loaded
 * (Node never frees an imported module) and, past the budget, exits to be replaced by a fresh
 * process instead of importing one more.
 */
import { stat } from "node:fs/promises";
import { watchProject, type WatchEvent } from "../build/index.js";
import { describeError, prettyLogger } from "../runtime/logger.js";
import { atLeast } from "../logging/levels.js";
import { adminOptionsFor } from "./admin-options.js";
import type { RunCommand } from "./args.js";
import { watchConfigFiles } from "./config-watch.js";
import { bundleBudgetBytes, devChildRestarts, RESTART_EXIT_CODE, type DevChildMessage } from "./dev-supervisor.js";
import type { CliContext } from "./context.js";
import {
  bundleFolder,
  importParties,
  loadProjectConfig,
  partykitHostFor,
  startProject,
  type RunningProject,
} from "./boot.js";

export async function runDev(command: RunCommand, cli: CliContext): Promise<() => Promise<void>> {
  const logger = cli.logger ?? atLeast(command.logLevel ?? "info", prettyLogger(cli.writeErr));
  const config = await loadProjectConfig(command, cli.cwd, logger);
  const admin = adminOptionsFor(command, config, cli.env ?? process.env);

  let project: RunningProject | undefined;
  const restarts = devChildRestarts();
  const child = restarts !== undefined;
  const budget = bundleBudgetBytes();
  let loadedBytes = 0;
  let watcher: Awaited<ReturnType<typeof watchProject>> | undefined;
  let stopConfigWatch = () => {};
  let closing: Promise<void> | undefined;
  /** Stops watching and closes the server (sockets 1012, storage flushed); once. */
  const close = () =>
    (closing ??= (async () => {
      stopConfigWatch();
      await watcher?.close();
      await project?.close();
    })());
  let started!: (project: RunningProject) => void;
  let failedToStart!: (error: unknown) => void;
  const firstStart = new Promise<RunningProject>((resolve, reject) => {
    started = resolve;
    failedToStart = reject;
  });

  async function apply(event: WatchEvent): Promise<void> {
    const waiting = project ? "the previous build keeps running" : "waiting for a fix";
    if (event instanceof Error) {
      logger.log("error", `build failed; ${waiting}`, { error: event.message });
      return;
    }
    const size = (await stat(event.file)).size;
    if (project && child && loadedBytes + size > budget) {
      logger.log("info", `${mib(loadedBytes)} of bundles are held in memory (Node cannot unload modules); reloading in a fresh process`);
      await close();
      exitForRestart();
      return;
    }
    let parties;
    try {
      loadedBytes += size;
      parties = await importParties(event);
    } catch (error) {
      logger.log("error", `the server module failed to load; ${waiting}`, describeError(error));
      return;
    }
    if (!project) {
      // A port in use or a locked data folder will not fix itself: that ends dev.
      try {
        project = await startProject(config, parties, logger, command, admin);
        started(project);
      } catch (error) {
        failedToStart(error);
      }
      return;
    }
    try {
      await project.reload(parties);
      logger.log("info", "rebuilt and reloaded");
    } catch (error) {
      logger.log("error", "reload failed; the previous build keeps running", describeError(error));
    }
  }

  let events: Promise<void> = Promise.resolve();
  watcher = await watchProject(
    config,
    {
      outdir: bundleFolder(config),
      host: partykitHostFor(config.host, config.port),
      ignore: config.persist === false ? [] : [config.persist],
    },
    // One event at a time, in build order.
    (event) => (events = events.then(() => apply(event))),
  );
  let running: RunningProject;
  try {
    running = await firstStart;
  } catch (error) {
    await watcher.close();
    throw error;
  }
  stopConfigWatch = await watchConfigFiles(config, (names) =>
    logger.log("warn", `${names.join(", ")} changed; restart partyhouse dev to apply it`),
  );
  // The ready line once per session; a replacement child says so instead.
  if (!restarts) cli.writeOut(`partyhouse ready on ${running.readyText}\n`);
  else logger.log("info", "reloaded in a fresh process");
  if (child) {
    process.send?.({ type: "ready", port: running.port } satisfies DevChildMessage);
    // The supervisor is gone (killed): shut down as on a signal rather than linger on the port.
    process.once("disconnect", () => process.kill(process.pid, "SIGTERM"));
  }
  return async () => {
    stopConfigWatch();
    await watcher?.close();
    await events; // a reload in progress finishes first
    await close();
  };
}

function mib(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** Exits once stdout and stderr are flushed, asking the supervisor for a fresh process. */
function exitForRestart(): void {
  process.stdout.write("", () => process.stderr.write("", () => process.exit(RESTART_EXIT_CODE)));
}
