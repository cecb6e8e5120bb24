/**
 * The seam between room storage semantics (caching, coalescing, gates: room-storage.ts) and
 * where bytes live (sqlite-engine.ts, memory-engine.ts; ../cluster/pg-engine.ts in cluster mode).
 *
 * Engines see serialized values only (v8 structured-clone bytes) and string keys; they order
 * keys by their UTF-8 bytes. Every method is asynchronous so that a networked engine fits;
 * an embedded engine may do its work synchronously inside.
 */

/** Identifies a room across the whole deployment. */
export interface RoomRef {
  readonly party: string;
  readonly room: string;
}

/**
 * Proof of ownership of a room, carried by every commit. A single-process engine that holds
 * an exclusive lock on its data hands out a constant; a shared engine hands out an epoch and
 * rejects commits whose epoch is no longer current.
 */
export type FenceToken = number;

export interface ListQuery {
  start?: string;
  startAfter?: string;
  end?: string;
  prefix?: string;
  reverse?: boolean;
  limit?: number;
}

/** Everything one room wrote since its last commit, applied atomically and in this order. */
export interface RoomWrite {
  readonly room: RoomRef;
  readonly fence: FenceToken;
  /** Remove every key of the room first (not the alarm). */
  readonly deleteAll: boolean;
  /** Key to new serialized value, or null to delete. */
  readonly entries: ReadonlyMap<string, Uint8Array | null>;
  /** New alarm time in ms since the epoch, null to clear, undefined to leave as is. */
  readonly alarm: number | null | undefined;
}

export interface AlarmEntry {
  readonly room: RoomRef;
  readonly time: number;
}

/** Thrown for a commit whose fence token is stale: another owner has taken the room. */
export class FencedError extends Error {
  constructor(readonly room: RoomRef) {
    super(`fenced: room ${room.party}/${room.room} is owned elsewhere`);
    this.name = "FencedError";
  }
}

/**
 * The engine cannot reach where the data lives, beyond what retrying may cover (cluster mode: the
 * database did not answer while this node's lease held). Transient: the room answers 503 with
 * Retry-After. The message says nothing internal; the original failure is the `cause`.
 */
export class StorageUnavailableError extends Error {
  constructor(cause: unknown) {
    super("storage is unavailable right now; try again", { cause });
    this.name = "StorageUnavailableError";
  }
}

export interface CommitOutcome {
  /** Rooms whose writes were refused by their fence; everything else committed durably. */
  readonly fenced: readonly RoomRef[];
}

export interface StorageEngine {
  readonly kind: string;
  /** Take ownership of a room for this process and get the token its commits must carry. */
  claim(room: RoomRef): Promise<FenceToken>;
  /** Values of the keys that exist. */
  get(room: RoomRef, keys: readonly string[]): Promise<Map<string, Uint8Array>>;
  /** Entries in UTF-8 byte order of their keys (reversed when asked), at most `limit`. */
  list(room: RoomRef, query: ListQuery): Promise<Array<[string, Uint8Array]>>;
  getAlarm(room: RoomRef): Promise<number | null>;
  /** Every stored alarm, for the scheduler at start-up. */
  listAlarms(): Promise<AlarmEntry[]>;
  /**
   * Ids of the party's rooms that hold at least one key or an alarm, in UTF-8 byte order,
   * strictly after `after` when given, at most `limit`. For the admin listing: keyset paging,
   * so rooms created or deleted meanwhile never shift the pages.
   */
  listRooms(party: string, after: string | undefined, limit: number): Promise<string[]>;
  /**
   * Apply several rooms' writes in one durable transaction (group commit). Resolves once the
   * data would survive the process being killed. Rooms refused by their fence are reported, not
   * thrown; any other failure rejects and nothing of the batch is applied.
   */
  commit(writes: readonly RoomWrite[]): Promise<CommitOutcome>;
  /**
   * A cheap round trip to where the data lives (a networked engine), resolving when it answers.
   * After a failed commit the service probes with it, so readiness recovers without traffic.
   */
  probe?(): Promise<void>;
  close(): Promise<void>;
}
