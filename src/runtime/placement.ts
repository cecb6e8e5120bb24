/**
 * Placement: which node runs each room. One interface, one contract (placement-contract-test-
 * support.ts runs it against every implementation): `SingleProcessPlacement` (every room here),
 * `PgDirectory` (a PostgreSQL cluster, src/cluster) and the database-free `StaticCluster` of the
 * routing tests and the forwarding bench. The runtime claims a room (`acquire`) before building
 * its instance and releases it after the instance closed; the router asks `locate` where to send
 * a request. A room is claimed by at most one node at a time, each claim with a larger epoch.
 */
import type { RoomRef } from "../storage/engine.js";

/** Where a room lives, cluster-wide. */
export type RoomLocation =
  | { readonly kind: "local"; readonly epoch: number } // this node holds it (claimed now or before)
  | { readonly kind: "remote"; readonly nodeId: string; readonly address: string }; // host:port of the owner

/** Who asked `locate`. */
export interface LocateOptions {
  /**
   * A client reached this node for the room (a load balancer or DNS sent it here): a room nobody
   * live holds is claimed here, so placement follows the traffic. Without it (a room's stub, an
   * alarm) the rendezvous hash over live nodes picks the node, a deterministic choice.
   */
  readonly claimHere?: boolean;
}

/** Which stored alarms a node fires. */
export type AlarmSource =
  /** The node's own storage holds the alarms of every room it runs: listed once at start. */
  | { readonly kind: "storage" }
  /** A shared database holds every node's alarms: ask every `everyMs` for the due ones this node fires. */
  | { readonly kind: "poll"; readonly everyMs: number; due(): Promise<Array<{ room: RoomRef; time: number }>> };

export interface Placement {
  readonly nodeId: string;
  /** Authenticates node-to-node and room-to-room calls; the same on every node of a cluster. */
  readonly secret: string;
  readonly alarms: AlarmSource;
  /**
   * The edge's question: where to send a request for the room. A room held here is local; a room
   * held by a live node is remote there; a room nobody holds is claimed here or pointed at the
   * node placement prefers (LocateOptions). Waits for a release or hand-off of the room here.
   */
  locate(room: RoomRef, options?: LocateOptions): Promise<RoomLocation>;
  /**
   * The runtime's claim before building an instance: claims the room here unless a live node
   * holds it (then says which). Waits for a release or hand-off of the room here in progress.
   */
  acquire(room: RoomRef): Promise<RoomLocation>;
  /** Forget a cached remote location (the forwarder got a "moved" answer). */
  invalidate(room: RoomRef): void;
  /**
   * This node stops holding the room once `closed` settles (its instance closed, storage
   * flushed). From the call on, `acquire` and `locate` of the room here wait for the release.
   */
  release(room: RoomRef, closed: Promise<void>): Promise<void>;
  /**
   * Rebalancing: this node gives the room to node `to` after `drop` (the instance here closed,
   * storage flushed). Until it is done no instance of the room is built here; afterwards the
   * room is `to`'s, or nobody's if `to` is not live. Nothing happens if the room is not held here.
   */
  handOff(room: RoomRef, to: string, drop: () => Promise<void>): Promise<void>;
  /** Graceful drain: this node claims no room any more (and is no longer preferred). */
  drain(): Promise<void>;
  /** Rooms lost to fencing or takeover: the runtime drops their instances and closes sockets with 1012. */
  onLost(listener: (room: RoomRef) => void): void;
  /**
   * Asked before every event is delivered to a room held here: whether this node's lease still
   * holds, now. A cluster node whose lease deadline passed fences itself, dropping every room,
   * and answers false until it has registered again.
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
