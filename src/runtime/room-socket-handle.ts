/**
 * The `webSocket` of the 101 Response that `stub.fetch()` gives for an upgrade request: the
 * target room has run onConnect and holds the socket's record, waiting for a client. When
 * that Response reaches the front door (returned from onBeforeConnect or onFetch), the
 * front door upgrades the client and gives its socket to the room directly, as if the client
 * had connected to the room itself. Used in-process, it fails clearly (use `stub.socket()`).
 */
import type { WebSocket } from "ws";
import type { UpgradeTarget } from "./websocket-response.js";
import type { RoomHost } from "./room-host.js";
import type { SocketRecord } from "./socket-record.js";
import { ClientOnlySocket } from "./client-only-socket.js";

/** A socket nobody claims within this time is dropped, so the room does not keep it forever. */
export const UNCLAIMED_SOCKET_TIMEOUT_MS = 10_000;

type Accepted = { ws: WebSocket } | null;

export class RoomSocketHandle extends ClientOnlySocket implements UpgradeTarget {
  private settle!: (accepted: Accepted) => void;
  /** What the room's connect() waits for: the client's socket, or null if none came. */
  readonly accepted: Promise<Accepted>;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly room: RoomHost,
    readonly record: SocketRecord,
  ) {
    super();
    this.accepted = new Promise((resolve) => (this.settle = resolve));
    this.timer = setTimeout(() => this.claim() && this.settle(null), UNCLAIMED_SOCKET_TIMEOUT_MS);
    this.timer.unref();
  }

  /** Takes the socket for one client; false if it was taken (or timed out) already. */
  override claim(): boolean {
    if (!super.claim()) return false;
    clearTimeout(this.timer);
    return true;
  }

  /** The front door's answer after claim(): the upgraded client socket, or null. */
  attached(accepted: Accepted): void {
    this.settle(accepted);
  }
}
