/**
 * Forwarding one WebSocket to the node that owns its room as a byte tunnel: the client's
 * handshake goes on to the owner (its key, version, subprotocols and extensions, plus the edge's
 * view of the request), the owner's 101 comes back to the client as is, and from then on the edge
 * relays bytes both ways without parsing frames. The owner speaks WebSocket with the client end
 * to end: limits (1 MiB frames → 1009), close codes, compression and ping/pong are the owner's,
 * exactly as on a single node, and the edge costs one read and one write per chunk.
 *
 * Backpressure is TCP's: a side that cannot take more stops the relay reading from the other.
 * The edge tracks frame boundaries toward the client (FrameBoundary) so it can still close a
 * tunnel itself (drain: 1012) without cutting a frame in half.
 */
import { request as httpRequest, STATUS_CODES, type IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type * as Party from "../types/party.js";
import { HANDSHAKE_HEADERS, MOVED_HEADER } from "../server/internal-auth.js";
import type { UpgradeExchange } from "../server/room-router.js";
import { forwardedHandshakeHeaders } from "./forwarded-request.js";
import { FrameBoundary, serverCloseFrame } from "./frame-boundary.js";

export type TunnelOpen =
  | { readonly kind: "open"; readonly upstream: Duplex; readonly answer: IncomingMessage; readonly head: Buffer }
  | { readonly kind: "moved"; readonly owner: string }
  | { readonly kind: "rejected"; readonly response: Response }
  | { readonly kind: "unreachable"; readonly error: Error };

/** How long the owner may take to answer the handshake (onConnect runs before its 101). */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/** How long a side may stay open after the other one closed (`ws`'s own closeTimeout). */
const PEER_CLOSE_TIMEOUT_MS = 30_000;
/** How long a drain waits for the owner to finish the frame it is sending. */
const CLOSE_GRACE_MS = 1_000;

/**
 * Sends the handshake to the owner. `path` is the client's request target (it routes to the same
 * room); the room sees `request.url`, its headers and `cf` as the edge had them after
 * onBeforeConnect. `edge`: this node's id, when a client reached it.
 */
export function openTunnel(
  connection: Duplex,
  path: string,
  request: Party.Request,
  client: UpgradeExchange["req"],
  secret: string,
  edge?: string,
): Promise<TunnelOpen> {
  const headers = forwardedHandshakeHeaders(request, secret, edge);
  // The client's key, version and extensions go on unchanged: the owner's `ws` answers them.
  for (const name of HANDSHAKE_HEADERS) {
    const value = client.headers[name];
    if (typeof value === "string") headers[name] = value;
  }
  headers.connection = "Upgrade";
  headers.upgrade = "websocket";

  return new Promise((resolve) => {
    // The handshake runs over `connection` (a virtual connection on the peer link), which then
    // becomes the tunnel's upstream.
    const req = httpRequest({ path, method: "GET", headers, setHost: false, createConnection: () => connection as Socket });
    const timer = setTimeout(() => req.destroy(new Error(`no handshake answer in ${HANDSHAKE_TIMEOUT_MS} ms`)), HANDSHAKE_TIMEOUT_MS);
    req.on("close", () => clearTimeout(timer));
    req.on("upgrade", (answer: IncomingMessage, upstream: Duplex, head: Buffer) => {
      clearTimeout(timer);
      resolve({ kind: "open", upstream, answer, head });
    });
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", () => {});
      res.on("end", () => {
        const code = res.statusCode ?? 502;
        const status = code >= 200 && code <= 599 ? code : 502;
        connection.destroy();
        const moved = res.headers[MOVED_HEADER];
        if (status === 503 && typeof moved === "string") return resolve({ kind: "moved", owner: moved });
        const answer = new Headers();
        const raw = res.rawHeaders;
        for (let i = 0; i < raw.length; i += 2) answer.append(raw[i]!, raw[i + 1]!);
        resolve({ kind: "rejected", response: new Response(Buffer.concat(chunks), { status, headers: answer }) });
      });
    });
    // After the promise settled, resolving again does nothing.
    req.on("error", (error) => {
      connection.destroy();
      resolve({ kind: "unreachable", error });
    });
    req.end();
  });
}

/** One client socket joined to its owner: bytes both ways until either side ends. */
export class WebSocketTunnel {
  private readonly towardClient = new FrameBoundary();
  private closing: { readonly frame: Buffer; readonly timer: NodeJS.Timeout } | null = null;
  private ended = false;

  /**
   * Completes the client's handshake with the owner's 101 and starts relaying. `onEnd` runs once,
   * when the tunnel is gone.
   */
  constructor(
    private readonly client: Socket,
    private readonly upstream: Duplex,
    opened: { readonly answer: IncomingMessage; readonly head: Buffer },
    clientHead: Buffer,
    private readonly onEnd: (tunnel: WebSocketTunnel) => void,
  ) {
    client.setTimeout(0);
    client.setNoDelay(true);
    client.write(switchingProtocols(opened.answer));
    if (opened.head.length > 0) this.fromOwner(opened.head);
    if (clientHead.length > 0) upstream.write(clientHead);

    client.on("data", (chunk: Buffer) => {
      // After our close frame, the client's answer to it has nowhere to go.
      if (upstream.destroyed) return;
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on("drain", () => client.resume());
    upstream.on("data", (chunk: Buffer) => this.fromOwner(chunk));
    client.on("drain", () => upstream.resume());
    // Either side ending or failing ends the other: the WebSocket close handshake travels
    // inside the tunnel, so a TCP end only ever follows it.
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
    client.on("close", () => this.gone(upstream));
    upstream.on("close", () => this.gone(client));
    client.on("error", () => client.destroy());
    upstream.on("error", () => upstream.destroy());
  }

  /**
   * Closes the client with `code` (drain: 1012, so partysocket reconnects elsewhere) after the
   * frame the owner is sending, and drops the owner's side, which the owner sees as the client
   * leaving.
   */
  shutdown(code: number, reason: string): void {
    if (this.closing !== null || this.ended) return;
    const timer = setTimeout(() => this.finishClose(), CLOSE_GRACE_MS);
    timer.unref();
    this.closing = { frame: serverCloseFrame(code, reason), timer };
    if (this.towardClient.atBoundary) this.finishClose();
  }

  private fromOwner(chunk: Buffer): void {
    if (this.closing === null) {
      this.towardClient.scan(chunk);
      if (!this.client.write(chunk)) this.upstream.pause();
      return;
    }
    // Draining: the rest of the frame in flight, then our close frame.
    const upToBoundary = this.towardClient.scan(chunk, true);
    if (upToBoundary > 0) this.client.write(chunk.subarray(0, upToBoundary));
    if (this.towardClient.atBoundary) this.finishClose();
  }

  private finishClose(): void {
    if (this.closing === null || this.client.destroyed) return;
    clearTimeout(this.closing.timer);
    this.upstream.destroy();
    if (!this.towardClient.atBoundary) return void this.client.destroy();
    // Read on, so the client's own close and FIN are seen; a client that never answers is cut.
    this.client.resume();
    this.client.end(this.closing.frame);
    setTimeout(() => this.client.destroy(), CLOSE_GRACE_MS).unref();
  }

  private gone(other: Duplex): void {
    if (!other.destroyed) {
      // Flush what is queued toward the other side, end it, and read on to see its FIN; one
      // that never closes is cut after the time `ws` itself gives a closing peer.
      other.resume();
      other.end();
      setTimeout(() => other.destroy(), PEER_CLOSE_TIMEOUT_MS).unref();
    }
    if (this.closing !== null) clearTimeout(this.closing.timer);
    if (!this.ended) {
      this.ended = true;
      this.onEnd(this);
    }
  }
}

/** The owner's 101, as the client must see it: its status line and headers, unchanged. */
function switchingProtocols(answer: IncomingMessage): string {
  const lines = [`HTTP/1.1 101 ${answer.statusMessage || STATUS_CODES[101]}`];
  const raw = answer.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  lines.push("", "");
  return lines.join("\r\n");
}
