/**
 * The runtime's seam to placement: before a room's instance is built, the room asks who owns
 * it. In single-process mode there is no ownership object and every room is local. In cluster
 * mode (src/cluster) `acquire` claims the room for this node unless a live node holds it, so a
 * room never runs on two nodes at once, whether or not it touches storage.
 */
import type { RoomRef } from "../storage/engine.js";

export type Acquired =
  | { readonly kind: "local"; readonly epoch: number }
  | { readonly kind: "remote"; readonly nodeId: string; readonly address: string };

export interface RoomOwnership {
  /** Claims the room for this node unless a live node holds it (then says which). */
  acquire(room: RoomRef): Promise<Acquired>;
  /** This node no longer runs the room (evicted); called after its storage was flushed. */
  releaseRoom(room: RoomRef): Promise<void>;
  /** Rooms this node lost (fenced, taken over, self-fenced): drop them, close sockets 1012. */
  onLost(listener: (party: string, room: string) => void): void;
  /** Due alarms this node should fire: its own rooms' and those of rooms no live node holds. */
  dueAlarms(): Promise<Array<{ room: RoomRef; time: number }>>;
  /** How often to ask for due alarms. */
  readonly alarmPollMs: number;
  /**
   * Asked before every event is delivered to a room held here: whether this node's lease still
   * holds, on the monotonic clock, now. A node that finds its deadline passed (resumed after a
   * stop, or after a long stall: waiting I/O is handled before the deadline timer runs) fences
   * itself at once, dropping every room, and answers false until it has registered again.
   */
  holdsLease(): boolean;
}

/** Header of a 503 that says the room lives elsewhere; its value is the owner's host:port. */
export const MOVED_HEADER = "x-partyhouse-moved";

/** The room is owned by another node (or the cluster cannot say right now). */
export class RoomMovedError extends Error {
  constructor(
    readonly room: RoomRef,
    readonly owner: { readonly nodeId: string; readonly address: string } | undefined,
    why = "this node cannot claim it right now",
  ) {
    super(
      owner
        ? `room ${room.party}/${room.room} is owned by ${owner.nodeId} (${owner.address})`
        : `room ${room.party}/${room.room} is unavailable: ${why}`,
    );
    this.name = "RoomMovedError";
  }

  /** 503 + x-partyhouse-moved: the edge that forwarded here invalidates its route and retries. */
  toResponse(): Response {
    const headers: Record<string, string> = { "retry-after": "1" };
    // Between nodes this is the "moved" signal the edge retries on (invalidate, locate again):
    // the owner's address, or "unavailable" when this node cannot claim right now.
    headers[MOVED_HEADER] = this.owner ? this.owner.address : "unavailable";
    // Not the message: it can name internal addresses or a database error (logs have it).
    return new Response("This node cannot serve the room right now", { status: 503, headers });
  }
}
