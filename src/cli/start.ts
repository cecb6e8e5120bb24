/** `partyhouse start`: boot once, no watching, one JSON log line per event on stderr. */
import { jsonLogger } from "../runtime/logger.js";
import type { RunCommand } from "./args.js";
import type { CliContext } from "./context.js";
import { bootProject } from "./project.js";

export async function runStart(command: RunCommand, cli: CliContext): Promise<() => Promise<void>> {
  const logger = cli.logger ?? jsonLogger(cli.writeErr);
  const project = await bootProject(command, cli.cwd, logger);
  logger.log("info", "ready", { url: project.url });
  cli.writeOut(`partyhouse ready on ${project.readyText}\n`);
  return () => project.close();
}
