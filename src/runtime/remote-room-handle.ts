/**
 * The `webSocket` of the 101 Response that `stub.fetch()` gives for an upgrade request to a room
 * another cluster node owns. Nothing runs yet: when that Response reaches the front door
 * (returned from onBeforeConnect or onFetch), the client's socket is routed to the room as a
 * room-to-room socket would be (no onBeforeConnect; forwarded to the owner, whose onConnect runs
 * then). A Response nobody returns to a client costs nothing. Used in-process, it fails clearly.
 */
import type * as Party from "../types/party.js";
import type { UpgradeTarget } from "./websocket-response.js";
import { ClientOnlySocket } from "./client-only-socket.js";

export class RemoteRoomHandle extends ClientOnlySocket implements UpgradeTarget {
  constructor(
    readonly party: string,
    readonly room: string,
    /** The stub's request: the room's URL and the headers the caller gave. */
    readonly request: Party.Request,
  ) {
    super();
  }
}
