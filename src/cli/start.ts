/** `partyhouse start`: build once, no watching, one JSON log line per event on stderr. */
import { bundleProject, releaseBuildService } from "../build/index.js";
import { pinoLogger } from "../logging/pino-logger.js";
import type { RunCommand } from "./args.js";
import type { CliContext } from "./context.js";
import { adminOptionsFor } from "./admin-options.js";
import { workerIndex } from "../workers/protocol.js";
import { bundleFolder, importParties, loadProjectConfig, partykitHostFor, startProject } from "./boot.js";

export async function runStart(command: RunCommand, cli: CliContext): Promise<() => Promise<void>> {
  const logger = cli.logger ?? pinoLogger(cli.writeErr, command.logLevel ?? "info");
  // A worker of `--workers N` (started by its supervisor) serves what the supervisor hands it.
  if (workerIndex() !== undefined) return (await import("../workers/worker.js")).runWorker(command, cli);
  const config = await loadProjectConfig(command, cli.cwd, logger);
  if (config.workers > 1) return (await import("../workers/supervisor.js")).runSupervisor(command, cli, config, logger);
  const bundle = await bundleProject(config, {
    outdir: bundleFolder(config),
    host: partykitHostFor(config.host, config.port),
  });
  const admin = adminOptionsFor(command, config, cli.env ?? process.env);
  const project = await startProject(config, await importParties(bundle), logger, command, admin);
  await releaseBuildService();
  logger.log("info", "ready", { url: project.url });
  cli.writeOut(`partyhouse ready on ${project.readyText}\n`);
  return () => project.close();
}
