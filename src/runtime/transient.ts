/**
 * Transient cluster conditions as clients see them. In cluster mode a room can be unservable
 * here for a while without anything being wrong with the room: the database did not answer
 * while the lease held (StorageUnavailableError), a commit was refused by the room's fence
 * (FencedError), the room or the node's lease is not held (NotOwnedError, NodeNotLiveError), or
 * the claim went elsewhere (RoomMovedError). Whether user code let such an error escape or the
 * runtime met it, the client gets 503 with Retry-After and a fixed text, never the error's own
 * message (it can name internal addresses), and handler error counts are not touched.
 */
import { FencedError, StorageUnavailableError } from "../storage/engine.js";
import { RoomMovedError } from "./placement.js";

/** Names of the cluster's errors (src/cluster is not imported by the runtime). */
const CLUSTER_ERRORS = new Set(["NotOwnedError", "NodeNotLiveError"]);

export function isTransient(error: unknown): boolean {
  if (error instanceof FencedError || error instanceof StorageUnavailableError || error instanceof RoomMovedError) return true;
  return error instanceof Error && CLUSTER_ERRORS.has(error.name);
}

/** What a client gets for a transient condition: come back in a second (partysocket does). */
export function retryLaterResponse(): Response {
  return new Response("The room is unavailable right now; try again shortly", { status: 503, headers: { "retry-after": "1" } });
}
