/**
 * The `admin` key (a partyhouse extension): `"admin": 9090` or `"admin": { "port": 9090,
 * "host": "127.0.0.1" }`. A token is refused here on purpose: config files get committed; it
 * comes from --admin-token or PARTYHOUSE_ADMIN_TOKEN.
 */
import type { Checker } from "./check.js";

export interface AdminConfig {
  port: number;
  host?: string;
}

export function validateAdmin(check: Checker, value: unknown): AdminConfig {
  if (typeof value === "number") return { port: check.port(value, "admin") };
  const object = check.object(value, "admin");
  if (object.token !== undefined) {
    check.fail("admin.token", "is not read from the config file (it may be committed): use --admin-token or PARTYHOUSE_ADMIN_TOKEN");
  }
  const input = check.strictObject(value, "admin", ["port", "host"]);
  if (input.port === undefined) check.fail("admin.port", "is required");
  const admin: AdminConfig = { port: check.port(input.port, "admin.port") };
  if (input.host !== undefined) admin.host = check.string(input.host, "admin.host");
  return admin;
}
