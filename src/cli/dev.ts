/**
 * `partyhouse dev`: boot, then watch. A successful rebuild is imported and handed to the
 * server (rooms reload, storage kept); a failed build or a module that throws while loading
 * is logged and the previous code keeps serving.
 */
import { watchProject, type WatchEvent } from "../build/index.js";
import { describeError, prettyLogger } from "../runtime/logger.js";
import type { RunCommand } from "./args.js";
import { bootProject, importParties } from "./project.js";
import type { CliContext } from "./context.js";
import { watchConfigFiles } from "./config-watch.js";

export async function runDev(command: RunCommand, cli: CliContext): Promise<() => Promise<void>> {
  const logger = cli.logger ?? prettyLogger(cli.writeErr);
  const project = await bootProject(command, cli.cwd, logger);
  let reloads: Promise<void> = Promise.resolve();

  async function apply(event: WatchEvent): Promise<void> {
    if (event instanceof Error) {
      logger.log("error", "build failed; the previous build keeps running", { error: event.message });
      return;
    }
    try {
      await project.reload(await importParties(event.file));
      logger.log("info", "rebuilt and reloaded");
    } catch (error) {
      logger.log("error", "reload failed; the previous build keeps running", describeError(error));
    }
  }

  let watcher;
  try {
    const ignore = project.config.persist === false ? [] : [project.config.persist];
    watcher = await watchProject(
      project.config,
      { outdir: project.outdir, host: project.partykitHost, initial: project.bundle, ignore },
      // One reload at a time, in build order.
      (event) => (reloads = reloads.then(() => apply(event))),
    );
  } catch (error) {
    await project.close();
    throw error;
  }
  const running = watcher;
  const stopConfigWatch = await watchConfigFiles(project.config, (names) =>
    logger.log("warn", `${names.join(", ")} changed; restart partyhouse dev to apply it`),
  );
  cli.writeOut(`partyhouse ready on ${project.readyText}\n`);
  return async () => {
    stopConfigWatch();
    await running.close();
    await reloads;
    await project.close();
  };
}
