/**
 * What a forwarded request carries to the node that owns its room: the body (read whole when it
 * is small, so a stale route can be retried; streamed otherwise), and the edge's view of the
 * request past onBeforeRequest / onBeforeConnect (URL, headers, `cf`), without what describes
 * the hop. The peer link (link-edge.ts) carries it; the owner learns from the shared secret not
 * to run onBefore* again.
 */
import { Readable } from "node:stream";
import type * as Party from "../types/party.js";
import { CF_HEADER, EDGE_HEADER, HANDSHAKE_HEADERS, INTERNAL_HEADER, isHopHeader, URL_HEADER } from "../server/internal-auth.js";
import type { HttpExchange } from "../server/room-router.js";
import type { RequestMeta } from "./link-owner.js";

/**
 * Bodies up to this size (by Content-Length) are read before forwarding, so a request that
 * meets a stale route can be sent again. Larger or unsized bodies stream, and are sent once.
 */
export const REPLAYABLE_BODY_BYTES = 1024 * 1024;

export type OutboundBody =
  | { readonly kind: "none" }
  | { readonly kind: "buffer"; readonly data: Buffer }
  | { readonly kind: "stream"; readonly source: Readable };

/**
 * The body to forward. From the client's own request (`exchange.untouched`) it is read straight
 * from Node's stream; from a Request that onBeforeRequest or a stub built, from its web stream.
 */
export async function outboundBody(request: Party.Request, exchange: HttpExchange | undefined): Promise<OutboundBody> {
  if (request.method === "GET" || request.method === "HEAD") return { kind: "none" };
  let source: Readable;
  let length: number | undefined;
  if (exchange?.untouched) {
    const req = exchange.req;
    const declared = req.headers["content-length"];
    if (declared === undefined && req.headers["transfer-encoding"] === undefined) return { kind: "none" };
    if (declared === "0") return { kind: "none" };
    source = req;
    length = declared === undefined ? undefined : Number(declared);
  } else {
    const body = request.body;
    if (body === null) return { kind: "none" };
    source = Readable.fromWeb(body as import("node:stream/web").ReadableStream<Uint8Array>);
    const declared = request.headers.get("content-length");
    length = declared === null ? undefined : Number(declared);
  }
  if (length !== undefined && length <= REPLAYABLE_BODY_BYTES) {
    const chunks: Buffer[] = [];
    for await (const chunk of source) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
    return { kind: "buffer", data: Buffer.concat(chunks) };
  }
  return { kind: "stream", source };
}

/** Whether the same request can be sent again after a stale route. */
export function isReplayable(body: OutboundBody): boolean {
  return body.kind !== "stream";
}

/** A request header the owner must not receive: the hop's, or the length (the link frames the body). */
function staysOnHop(name: string): boolean {
  return isHopHeader(name) || name === "content-length";
}

/**
 * A WebSocket handshake for the owner (ws-tunnel.ts): the edge's headers without the hop's and
 * the client's own handshake headers (the tunnel sets those), a Host, and the secret, URL and
 * `cf` the owner reads back (internal-auth.ts); `edge`: this node's id, when a client reached it
 * (not a room's stub).
 */
export function forwardedHandshakeHeaders(request: Party.Request, secret: string, edge?: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers) if (!staysOnHop(name) && !HANDSHAKE.has(name)) headers[name] = value;
  headers.host ??= new URL(request.url).host;
  headers[INTERNAL_HEADER] = secret;
  headers[URL_HEADER] = request.url;
  headers[CF_HEADER] = JSON.stringify(request.cf ?? {});
  if (edge !== undefined) headers[EDGE_HEADER] = edge;
  return headers;
}

const HANDSHAKE: ReadonlySet<string> = new Set(HANDSHAKE_HEADERS);

/**
 * The request as a peer link carries it: the edge's view, minus what describes the hop; `edge`
 * as in forwardedHandshakeHeaders; `streamed`: body frames follow the request frame.
 */
export function requestMeta(party: string, room: string, request: Party.Request, edge?: string, streamed?: boolean): RequestMeta {
  const headers: string[] = [];
  let host = false;
  for (const [name, value] of request.headers) {
    if (staysOnHop(name)) continue;
    if (name === "host") host = true;
    headers.push(name, value);
  }
  if (!host) headers.push("host", new URL(request.url).host);
  if (edge !== undefined) headers.push(EDGE_HEADER, edge);
  const meta: RequestMeta = { party, room, method: request.method, url: request.url, headers, cf: request.cf ?? {} };
  return streamed ? { ...meta, streamed: true } : meta;
}
