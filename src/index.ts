/**
 * partyhouse as a library: start a server for party classes from your own program (the CLI
 * does the same after reading partykit.json and bundling). For tests, see `partyhouse/testing`;
 * for the Party types, `partyhouse/server`.
 */
import type { AdminOptions } from "./admin/options.js";
import { startPartyhouse as startServer, type RunningPartyhouse } from "./server/index.js";
import type { PartyhouseOptions as ServerOptions } from "./server/options.js";

export { PortInUseError, DEFAULT_PORT, type RunningPartyhouse } from "./server/index.js";
export type { PartyExports, StaticAssetsOptions } from "./server/options.js";
export type { AdminOptions } from "./admin/options.js";
export { createStorageService } from "./storage/index.js";
export type { StorageService, RoomStorage } from "./storage/contract.js";
export type { StorageEngine, RoomRef, RoomWrite, FenceToken } from "./storage/engine.js";
export { jsonLogger, prettyLogger, silentLogger, type Logger, type LogLevel } from "./runtime/logger.js";
export type * as Party from "./types/party.js";

export interface PartyhouseOptions extends Omit<ServerOptions, "admin"> {
  /** Start the admin listener (health, metrics, API, inspector) on its own port. */
  admin?: AdminOptions;
}

/** Starts a partyhouse server for the given parties (and the admin listener, when asked for). */
export async function startPartyhouse(options: PartyhouseOptions): Promise<RunningPartyhouse> {
  const { admin, ...server } = options;
  // Loaded only when asked for: without an admin port no metrics code runs at all.
  if (admin === undefined) return startServer(server);
  const { AdminListener } = await import("./admin/server.js");
  return startServer({ ...server, admin: new AdminListener(admin) });
}
