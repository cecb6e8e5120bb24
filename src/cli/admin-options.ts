/**
 * The admin listener's settings from flags, the config's `admin` key and the environment:
 * flags win, the token comes only from `--admin-token` or PARTYHOUSE_ADMIN_TOKEN (never from a
 * file that may be committed). A missing token for a non-loopback address is a usage error at
 * start, before anything is built.
 */
import type { AdminOptions } from "../admin/options.js";
import { ADMIN_TOKEN_ENV, AdminConfigError, checkAdminBinding } from "../admin/auth.js";
import type { ResolvedConfig } from "../config/types.js";
import { UsageError, type RunCommand } from "./args.js";

export function adminOptionsFor(
  command: Pick<RunCommand, "admin">,
  config: Pick<ResolvedConfig, "admin">,
  env: Record<string, string | undefined>,
): AdminOptions | undefined {
  const flags = command.admin ?? {};
  const port = flags.port ?? config.admin?.port;
  const host = flags.host ?? config.admin?.host ?? "127.0.0.1";
  const token = flags.token ?? (env[ADMIN_TOKEN_ENV] || undefined);
  if (port === undefined) {
    if (flags.host !== undefined || flags.token !== undefined) {
      throw new UsageError("--admin-host and --admin-token need --admin-port (or \"admin\" in the config)");
    }
    return undefined;
  }
  try {
    checkAdminBinding(host, token);
  } catch (error) {
    throw error instanceof AdminConfigError ? new UsageError(error.message) : error;
  }
  return { port, host, ...(token !== undefined ? { token } : {}) };
}
