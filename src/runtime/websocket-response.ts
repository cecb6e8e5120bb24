/**
 * `new Response(null, { status: 101, webSocket })` for user bundles. undici refuses status 101,
 * so this is a Response subclass (public API only) that reports 101 and carries the socket
 * end; the front door recognizes it and connects the client to that end. It is the runtime's
 * (stub.fetch() answers with it too); globals/registry.ts offers it to bundles.
 */
import { NotSupportedError } from "./unavailable.js";

/** What may travel in a 101 Response: a WebSocketPair end, or a room's socket from stub.fetch(). */
export interface UpgradeTarget {
  /** False once the end was accepted in-process or already handed to a client. */
  readonly isAttachable: boolean;
}

const RealResponse = globalThis.Response;

export class WebSocketUpgradeResponse extends RealResponse {
  readonly webSocket: UpgradeTarget;

  constructor(webSocket: UpgradeTarget, headers?: HeadersInit) {
    super(null, headers === undefined ? undefined : { headers });
    this.webSocket = webSocket;
  }

  override get status(): number {
    return 101;
  }
  override get statusText(): string {
    return "Switching Protocols";
  }
  override get ok(): boolean {
    return false;
  }
  override clone(): Response {
    throw new NotSupportedError("a WebSocket (101) Response cannot be cloned");
  }
}

/** Whether a Response init carries a WebSocket (workerd's `webSocket` member). */
export function hasWebSocket(init: unknown): init is ResponseInit & { webSocket: unknown } {
  if (typeof init !== "object" || init === null || !("webSocket" in init)) return false;
  const webSocket = (init as { webSocket: unknown }).webSocket;
  return webSocket !== null && webSocket !== undefined;
}

/** workerd's rules for a Response with a WebSocket: status 101, no body, one of our socket ends. */
export function createUpgradeResponse(body: unknown, init: ResponseInit & { webSocket: unknown }): WebSocketUpgradeResponse {
  if (init.status !== 101) throw new RangeError("Responses with a WebSocket must have status code 101.");
  if (body !== null && body !== undefined) throw new TypeError("Response with null body status (101) cannot have body");
  const webSocket = init.webSocket as Partial<UpgradeTarget>;
  if (typeof webSocket !== "object" || typeof webSocket.isAttachable !== "boolean") {
    throw new TypeError("webSocket must be an end of a WebSocketPair (or the webSocket of a stub.fetch() response)");
  }
  if (!webSocket.isAttachable) {
    throw new TypeError("this WebSocket was accepted or already returned; return the other end of the pair");
  }
  return new WebSocketUpgradeResponse(webSocket as UpgradeTarget, init.headers);
}

export function isUpgradeResponse(response: unknown): response is WebSocketUpgradeResponse {
  return response instanceof WebSocketUpgradeResponse;
}
