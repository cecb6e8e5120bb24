/**
 * The `webSocket` of a 101 Response that stub.fetch() gives for an upgrade request: it stands for
 * a socket a client will have once the Response is returned to one (from onBeforeConnect or
 * onFetch). It looks like a WebSocket that is still connecting, one client (the first to claim
 * it) gets it, and anything done to it in-process fails clearly: a room-to-room socket is
 * `await stub.socket()`.
 */
import { NotSupportedError } from "./unavailable.js";

export abstract class ClientOnlySocket {
  readonly CONNECTING = 0;
  readonly readyState = 0;
  private claimed = false;

  /** Whether no client has taken it yet (UpgradeTarget). */
  get isAttachable(): boolean {
    return !this.claimed;
  }

  /** Takes it for one client; false if it was taken already. */
  claim(): boolean {
    if (this.claimed) return false;
    this.claimed = true;
    return true;
  }

  accept(): never {
    return unsupported();
  }
  send(): never {
    return unsupported();
  }
  close(): never {
    return unsupported();
  }
  addEventListener(): never {
    return unsupported();
  }
}

function unsupported(): never {
  throw new NotSupportedError(
    "the webSocket of a stub.fetch() upgrade can only be returned to a client (from onBeforeConnect or onFetch); to talk to a room over a socket in-process, use `await stub.socket()`",
  );
}
