/**
 * `partyhouse dev`: one watcher for the whole session. The first good build starts the server
 * (until then, build errors are shown and a fix is awaited, as `partykit dev` does); each later
 * good build is imported and handed to the server (rooms reload, storage kept). A failed build,
 * or a module that throws while loading, is logged and the previous code keeps serving.
 */
import { watchProject, type WatchEvent } from "../build/index.js";
import { describeError, prettyLogger } from "../runtime/logger.js";
import { atLeast } from "../logging/levels.js";
import { adminOptionsFor } from "./admin-options.js";
import type { RunCommand } from "./args.js";
import { watchConfigFiles } from "./config-watch.js";
import type { CliContext } from "./context.js";
import {
  bundleFolder,
  importParties,
  loadProjectConfig,
  partykitHostFor,
  startProject,
  type RunningProject,
} from "./project.js";

export async function runDev(command: RunCommand, cli: CliContext): Promise<() => Promise<void>> {
  const logger = cli.logger ?? atLeast(command.logLevel ?? "info", prettyLogger(cli.writeErr));
  const config = await loadProjectConfig(command, cli.cwd, logger);
  const admin = adminOptionsFor(command, config, cli.env ?? process.env);

  let project: RunningProject | undefined;
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
    let parties;
    try {
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
  const watcher = await watchProject(
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
  const stopConfigWatch = await watchConfigFiles(config, (names) =>
    logger.log("warn", `${names.join(", ")} changed; restart partyhouse dev to apply it`),
  );
  cli.writeOut(`partyhouse ready on ${running.readyText}\n`);
  return async () => {
    stopConfigWatch();
    await watcher.close();
    await events;
    await running.close();
  };
}
