import type { Socket } from "node:net";
import type { WebSocket } from "ws";
import type { PartyConnection } from "./connection.js";

/** The tags of a socket without user tags: one shared array, not an empty one per socket. */
export const NO_TAGS: readonly string[] = Object.freeze([]);

/** A close requested before the socket was upgraded. */
export interface PendingClose {
  readonly code: number | undefined;
  readonly reason: string | undefined;
}

/**
 * What the front door keeps per client socket. It outlives the room's server instance: a
 * hibernating room drops its instance (and the Connection wrappers) while these records, and
 * the sockets they hold, stay. Kept deliberately small: at tens of thousands of sockets per
 * room every field costs memory.
 */
export class SocketRecord {
  /** The `ws` socket once the upgrade completed; null while onConnect runs (before the 101). */
  ws: WebSocket | null = null;
  /** The TCP socket, for writing pre-framed broadcast bytes. */
  raw: Socket | null = null;
  /** User state: the live value (in-memory rooms) or its v8 serialization as a latin1 string (hibernating rooms). */
  state: unknown = undefined;
  /**
   * Deprecated attachment slot of in-memory rooms. Hibernating rooms share it with state and
   * keep the live state value here until they hibernate.
   */
  attachment: unknown = undefined;
  /** The wrapper handed to user code; dropped when a hibernating room evicts its instance. */
  connection: PartyConnection | undefined = undefined;
  /** Messages (and a close) issued during onConnect, delivered right after the 101. */
  pending: Array<string | Buffer | PendingClose> | undefined = undefined;
  /** Set once the socket closed (or the upgrade was abandoned). */
  closed = false;

  constructor(
    readonly id: string,
    readonly uri: string,
    /** User tags from getConnectionTags, set once before the socket joins its room's table. */
    public tags: readonly string[],
  ) {}
}
