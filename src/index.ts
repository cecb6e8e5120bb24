/**
 * partyhouse as a library: start a server for party classes from your own program (the CLI
 * does the same after reading partykit.json and bundling). For tests, see `partyhouse/testing`;
 * for the Party types, `partyhouse/server`.
 */
export { startPartyhouse, PortInUseError, DEFAULT_PORT, type RunningPartyhouse } from "./server/index.js";
export type { PartyhouseOptions, PartyExports, StaticAssetsOptions } from "./server/options.js";
export { createStorageService } from "./storage/index.js";
export type { StorageService, RoomStorage } from "./storage/contract.js";
export type { StorageEngine, RoomRef, RoomWrite, FenceToken } from "./storage/engine.js";
export { jsonLogger, prettyLogger, silentLogger, type Logger, type LogLevel } from "./runtime/logger.js";
export type * as Party from "./types/party.js";
