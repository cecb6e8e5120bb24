/**
 * The seam between placement (src/cluster, on PostgreSQL) and forwarding (src/server's peer links).
 * The forwarder asks `locate` where a room lives; the runtime asks it before building an instance.
 * In single-process mode a local directory answers `local` for every room.
 */

/** Where a room lives, cluster-wide. Implemented on PostgreSQL by src/cluster. */
export type RoomLocation =
  | { readonly kind: "local"; readonly epoch: number } // this node owns it (claimed now or before)
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

export interface RoomDirectory {
  /** Owner of the room; claims it for this node (or the rendezvous-preferred node) when nobody live holds it. */
  locate(party: string, room: string, options?: LocateOptions): Promise<RoomLocation>;
  /** Forget a cached remote location (the forwarder got a "moved" answer). */
  invalidate(party: string, room: string): void;
  /** This node stops owning the room (evicted / drained). */
  release(party: string, room: string): Promise<void>;
  /**
   * Rebalancing: this node gives the room to node `to` (where its clients arrive), after `drop`
   * (the instance here closed, storage flushed). Until it is done no instance of the room is
   * built here; afterwards the room is `to`'s, or nobody's if `to` is not live. Optional: a
   * directory without it never rebalances.
   */
  handOff?(party: string, room: string, to: string, drop: () => Promise<void>): Promise<void>;
  /** Rooms lost to fencing or takeover: the runtime must drop their instances and close sockets with 1012. */
  onLost(listener: (party: string, room: string) => void): void;
  readonly nodeId: string;
  /**
   * Shared by all nodes, derived from the cluster database (a random value stored once in a table),
   * used to authenticate node-to-node calls.
   */
  readonly secret: string;
}
