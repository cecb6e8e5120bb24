/** `partyhouse start`: build once, no watching, one JSON log line per event on stderr. */
import { bundleProject } from "../build/index.js";
import { jsonLogger } from "../runtime/logger.js";
import type { RunCommand } from "./args.js";
import type { CliContext } from "./context.js";
import { bundleFolder, importParties, loadProjectConfig, partykitHostFor, startProject } from "./project.js";

export async function runStart(command: RunCommand, cli: CliContext): Promise<() => Promise<void>> {
  const logger = cli.logger ?? jsonLogger(cli.writeErr);
  const config = await loadProjectConfig(command, cli.cwd, logger);
  const bundle = await bundleProject(config, {
    outdir: bundleFolder(config),
    host: partykitHostFor(config.host, config.port),
  });
  const project = await startProject(config, await importParties(bundle), logger, command);
  logger.log("info", "ready", { url: project.url });
  cli.writeOut(`partyhouse ready on ${project.readyText}\n`);
  return () => project.close();
}
