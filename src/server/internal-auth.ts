/**
 * Calls between partyhouse nodes (a forwarded request or socket) and room-to-room sockets carry
 * a shared secret in one header. This module says whether an incoming request carries it, and
 * turns a request a peer forwarded back into the Party.Request the edge node handed on.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import type * as Party from "../types/party.js";
import { INTERNAL_HEADER } from "../runtime/project.js";
import { hasRequestBody } from "./http-bridge.js";
import { requestBodyOf } from "./request-body.js";

export { INTERNAL_HEADER };
/** The URL the room must see: the edge's request URL after onBefore* (it may have changed it). */
export const URL_HEADER = "x-partyhouse-url";
/** `request.cf` as the edge computed it, JSON. */
export const CF_HEADER = "x-partyhouse-cf";
/**
 * On a forwarded client request or WebSocket: the node the client reached (the edge), so the
 * owner knows where the room's clients arrive (rebalancing, src/cluster/arrivals.ts). Never
 * taken from a client: edges set it, and only peers' requests are read for it.
 */
export const EDGE_HEADER = "x-partyhouse-edge";
/** On a 503: "this node no longer owns the room"; the edge re-locates and retries. */
import { MOVED_HEADER } from "../runtime/placement.js";
export { MOVED_HEADER };

/**
 * - `none`: an ordinary outside request.
 * - `forged`: carries the internal header with a wrong secret; refused (403).
 * - `stub`: a room-to-room socket opened on this node (`stub.socket()`); skips onBeforeConnect.
 * - `peer`: forwarded by another node, which already ran onBefore*; served here or answered "moved".
 */
export type CallerKind = "none" | "forged" | "stub" | "peer";

/**
 * Scans the raw header list (reading `req.headers` would make Node build its header object,
 * which a plain GET otherwise never pays for). Names are compared by length first.
 */
export function callerOf(raw: readonly string[], secret: string): CallerKind {
  let presented: string | undefined;
  let forwarded = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === INTERNAL_HEADER.length && name.toLowerCase() === INTERNAL_HEADER) {
      // Two copies of the header are never sent by a node: treat as forged.
      if (presented !== undefined) return "forged";
      presented = raw[i + 1]!;
    } else if (name.length === URL_HEADER.length && name.toLowerCase() === URL_HEADER) {
      forwarded = true;
    }
  }
  if (presented === undefined) return "none";
  if (!secretMatches(presented, secret)) return "forged";
  return forwarded ? "peer" : "stub";
}

/**
 * Constant-time comparison. Both sides are hashed first so that neither the length nor any
 * prefix of the secret can be learned from timing.
 */
export function secretMatches(presented: string, secret: string): boolean {
  const a = createHash("sha256").update(presented).digest();
  const b = createHash("sha256").update(secret).digest();
  return timingSafeEqual(a, b) && secret.length > 0;
}

/**
 * The one list of headers that describe a hop (a connection, or the node-to-node exchange),
 * never the request or response itself: whatever forwards, relays or rebuilds a message between
 * nodes drops them (the link and the tunnel's handshake going out, the owner rebuilding what
 * arrived, the edge relaying the owner's answer). Node frames each hop itself.
 */
const HOP_HEADERS: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "transfer-encoding",
  "te",
  "trailer",
  "upgrade",
  INTERNAL_HEADER,
  URL_HEADER,
  CF_HEADER,
  EDGE_HEADER,
  MOVED_HEADER,
]);

/** A WebSocket handshake's own headers: the owner's `ws` answers them, the room never sees them. */
export const HANDSHAKE_HEADERS = ["sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions"] as const;
const HANDSHAKE: ReadonlySet<string> = new Set(HANDSHAKE_HEADERS);

/** Whether `name` (lower case) describes the hop; see HOP_HEADERS. */
export function isHopHeader(name: string): boolean {
  return HOP_HEADERS.has(name);
}

/**
 * The request a peer forwarded, as the room on this node must see it: the edge's URL, headers
 * (with the client-address headers the edge added, so `cf-connecting-ip` names the client, not
 * the edge) and `cf`. No client-address header is added for this hop. `withBody`: the body is
 * the incoming stream (HTTP with a body), never for an upgrade.
 */
export function peerRequest(req: IncomingMessage, withBody: boolean): Party.Request {
  const raw = req.rawHeaders;
  let url: string | undefined;
  let cf: Party.RequestCf = { httpProtocol: `HTTP/${req.httpVersion}` };
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (name === URL_HEADER) url = raw[i + 1];
    else if (name === CF_HEADER) cf = parseCf(raw[i + 1]!) ?? cf;
  }
  const headers = new Headers();
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (!HOP_HEADERS.has(name) && !HANDSHAKE.has(name)) headers.append(raw[i]!, raw[i + 1]!);
  }
  const method = req.method ?? "GET";
  const init: RequestInit & { duplex?: "half" } = { method, headers };
  if (withBody && method !== "GET" && method !== "HEAD" && hasRequestBody(raw)) {
    init.body = requestBodyOf(req);
    init.duplex = "half";
  }
  const request = new Request(url ?? "http://partyhouse.invalid/", init);
  Object.defineProperty(request, "cf", { value: cf, enumerable: true, configurable: true, writable: true });
  return request as Party.Request;
}

function parseCf(text: string): Party.RequestCf | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Party.RequestCf) : undefined;
  } catch {
    return undefined;
  }
}
