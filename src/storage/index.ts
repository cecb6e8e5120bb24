/**
 * Room storage for partyhouse: `createStorageService` picks the engine; everything else is the
 * contract the runtime uses (contract.ts) and the engine seam (engine.ts).
 */
import { MemoryEngine } from "./memory-engine.js";
import { GroupCommitStorageService } from "./service.js";
import { SqliteEngine, type Durability } from "./sqlite-engine.js";
import type { StorageService } from "./contract.js";

export type StorageServiceConfig =
  | {
      kind: "sqlite";
      /** The data folder; created if needed. One process at a time may use it. */
      dir: string;
      /** "full" (default): an acknowledged write survives power loss. "normal": it survives
       *  the process being killed, not the machine losing power. */
      durability?: Durability;
      cacheBytesPerRoom?: number;
      /** Several processes share the folder (src/workers); see SqliteEngineOptions.shared. */
      shared?: boolean;
    }
  | { kind: "memory"; cacheBytesPerRoom?: number };

export async function createStorageService(options: StorageServiceConfig): Promise<StorageService> {
  const engine =
    options.kind === "sqlite"
      ? SqliteEngine.open({ dir: options.dir, durability: options.durability ?? "full", shared: options.shared ?? false })
      : new MemoryEngine();
  return new GroupCommitStorageService(engine, { cacheBytesPerRoom: options.cacheBytesPerRoom });
}

export type { RoomStorage, RoomStorageHooks, StorageService } from "./contract.js";
export type {
  AlarmEntry,
  CommitOutcome,
  FenceToken,
  ListQuery,
  RoomRef,
  RoomWrite,
  StorageEngine,
} from "./engine.js";
export { FencedError, StorageUnavailableError } from "./engine.js";
export { DataFolderInUseError } from "./folder-lock-error.js";
export { IncompleteStoreError } from "./incomplete-store-error.js";
export { GroupCommitStorageService, type StorageServiceOptions } from "./service.js";
export { MemoryEngine } from "./memory-engine.js";
export { SqliteEngine, type Durability, type SqliteEngineOptions } from "./sqlite-engine.js";
export { MAX_BATCH_KEYS, MAX_KEY_BYTES, MAX_VALUE_BYTES } from "./limits.js";
