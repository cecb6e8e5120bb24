/** What a command needs from its surroundings, so tests can run commands in-process too. */
import type { Logger } from "../runtime/logger.js";

export interface CliContext {
  cwd: string;
  writeOut(text: string): void;
  writeErr(text: string): void;
  /** Overrides the command's own logger (pretty for dev, JSON for start). */
  logger?: Logger;
  /** Environment for PARTYHOUSE_ADMIN_TOKEN; default process.env. */
  env?: Record<string, string | undefined>;
  /** The command line the command came from (the workers of `start --workers N` run it again). */
  argv?: readonly string[];
}
