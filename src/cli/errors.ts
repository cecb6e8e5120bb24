/**
 * The one line the CLI prints when it cannot start. Known failures (config, build, port, data
 * folder) carry their own clear message; anything else is shown by message, not as a stack.
 */
import { BuildError } from "../build/errors.js";
import { ConfigError } from "../config/errors.js";
import { UsageError } from "./args.js";

export function describeStartupError(error: unknown): string {
  if (error instanceof UsageError || error instanceof ConfigError) return error.message;
  if (error instanceof BuildError) return `build failed: ${error.message}`;
  const code = (error as { code?: string } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === "EADDRINUSE") return `the port is already in use (choose another with --port): ${message}`;
  if (code === "EACCES") return `permission denied: ${message} (ports below 1024 need privileges; try --port)`;
  if (code === "EADDRNOTAVAIL") return `cannot bind that address (check --host): ${message}`;
  return message;
}

/** Usage errors exit 2, everything else 1, as most command-line tools do. */
export function exitCodeFor(error: unknown): number {
  return error instanceof UsageError ? 2 : 1;
}
