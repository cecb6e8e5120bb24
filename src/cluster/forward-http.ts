/**
 * Forwarding one HTTP request to the node that owns its room, over that peer's kept-open
 * connections, and handing the answer back: streamed both ways, status, headers and every
 * Set-Cookie line preserved. The owner learns the URL, headers and `cf` the edge saw after
 * onBeforeRequest; the shared secret tells it not to run onBeforeRequest again.
 */
import { request as httpRequest, type Agent, type IncomingMessage, type ServerResponse } from "node:http";
import { Readable, pipeline } from "node:stream";
import type * as Party from "../types/party.js";
import { CF_HEADER, EDGE_HEADER, INTERNAL_HEADER, MOVED_HEADER, URL_HEADER } from "../server/internal-auth.js";
import type { HttpExchange } from "../server/room-router.js";
import type { RequestMeta } from "./link-owner.js";
import { splitAddress } from "./peer-agents.js";

/**
 * Bodies up to this size (by Content-Length) are read before forwarding, so a request that
 * meets a stale route can be sent again. Larger or unsized bodies stream, and are sent once.
 */
export const REPLAYABLE_BODY_BYTES = 1024 * 1024;

export type OutboundBody =
  | { readonly kind: "none" }
  | { readonly kind: "buffer"; readonly data: Buffer }
  | { readonly kind: "stream"; readonly source: Readable };

/** What the router sends each attempt. */
export interface Outbound {
  readonly method: string;
  /** Request target on the owner; it routes to the same room as on the edge. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body: OutboundBody;
}

export type PeerAnswer =
  | { readonly kind: "response"; readonly response: IncomingMessage }
  | { readonly kind: "moved" }
  | { readonly kind: "unreachable"; readonly error: Error };

/**
 * Headers that describe a hop, never the request: Node frames each hop itself (the length of
 * a forwarded body is set from what is sent).
 */
const HOP_HEADERS = new Set([
  "content-length",
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
]);

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

/** The request as the owner must receive it: the edge's view plus the secret. */
export function outbound(request: Party.Request, path: string, body: OutboundBody, secret: string, edge?: string): Outbound {
  const headers = forwardedHeaders(request, secret, HOP_HEADERS, edge);
  if (body.kind === "buffer") headers["content-length"] = String(body.data.length);
  else if (body.kind === "stream") {
    const length = request.headers.get("content-length");
    if (length !== null) headers["content-length"] = length;
  }
  return { method: request.method, path, headers, body };
}

/**
 * What a node sends its peer about a request (HTTP, or a WebSocket handshake): the edge's
 * headers without those in `skip`, a Host, and the secret, URL and `cf` the owner reads back
 * (internal-auth.ts); `edge`: this node's id, when a client reached it (not a room's stub).
 */
export function forwardedHeaders(request: Party.Request, secret: string, skip: ReadonlySet<string>, edge?: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers) if (!skip.has(name)) headers[name] = value;
  headers.host ??= new URL(request.url).host;
  headers[INTERNAL_HEADER] = secret;
  headers[URL_HEADER] = request.url;
  headers[CF_HEADER] = JSON.stringify(request.cf ?? {});
  if (edge !== undefined) headers[EDGE_HEADER] = edge;
  return headers;
}

/**
 * The request as a peer link carries it: the edge's view, minus what describes the hop; `edge`
 * as in forwardedHeaders.
 */
export function requestMeta(party: string, room: string, request: Party.Request, edge?: string): RequestMeta {
  const headers: string[] = [];
  let host = false;
  for (const [name, value] of request.headers) {
    if (HOP_HEADERS.has(name)) continue;
    if (name === "host") host = true;
    headers.push(name, value);
  }
  if (!host) headers.push("host", new URL(request.url).host);
  if (edge !== undefined) headers.push(EDGE_HEADER, edge);
  return { party, room, method: request.method, url: request.url, headers, cf: request.cf ?? {} };
}

/** One attempt. "moved": the peer no longer owns the room; "unreachable": no answer at all. */
export function sendToPeer(agent: Agent, address: string, message: Outbound): Promise<PeerAnswer> {
  const { host, port } = splitAddress(address);
  return new Promise((resolve) => {
    let answered = false;
    const req = httpRequest({ agent, host, port, method: message.method, path: message.path, headers: message.headers, setHost: false });
    req.on("response", (response) => {
      answered = true;
      if (response.statusCode === 503 && response.headers[MOVED_HEADER] !== undefined) {
        response.resume();
        // A streamed body cannot go elsewhere; stop sending it here.
        if (message.body.kind === "stream") req.destroy();
        resolve({ kind: "moved" });
        return;
      }
      resolve({ kind: "response", response });
    });
    req.on("error", (error) => {
      // After an answer started, the response stream reports the failure to whoever reads it.
      if (!answered) resolve({ kind: "unreachable", error });
    });
    const body = message.body;
    if (body.kind === "none") req.end();
    else if (body.kind === "buffer") req.end(body.data);
    else {
      body.source.on("error", (error) => req.destroy(error));
      body.source.pipe(req);
    }
  });
}

/** Hop headers of a response, and the owner's "moved" marker, stay on the hop. */
const RESPONSE_HOP_HEADERS = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", MOVED_HEADER]);

export function isResponseHopHeader(name: string): boolean {
  return RESPONSE_HOP_HEADERS.has(name.toLowerCase());
}

/** Relays the owner's answer to the client, streaming, Set-Cookie lines and all. */
export function relayResponse(response: IncomingMessage, res: ServerResponse, head: boolean): void {
  const raw = response.rawHeaders;
  const headers: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!RESPONSE_HOP_HEADERS.has(raw[i]!.toLowerCase())) headers.push(raw[i]!, raw[i + 1]!);
  }
  const status = response.statusCode ?? 502;
  if (head) {
    res.writeHead(status, response.statusMessage, headers);
    res.end();
    response.resume();
    return;
  }
  const length = Number(response.headers["content-length"]);
  if (length <= SMALL_BODY_BYTES) {
    // Most answers are small and sized: collect them and write head and body in one go, which
    // costs far less than a stream pipeline per request.
    const chunks: Buffer[] = [];
    response.on("data", (chunk: Buffer) => chunks.push(chunk));
    response.on("end", () => {
      res.writeHead(status, response.statusMessage, headers);
      res.end(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    });
    response.on("error", () => res.destroy());
    return;
  }
  res.writeHead(status, response.statusMessage, headers);
  // Either side failing ends the other: a client that left stops the owner's stream.
  pipeline(response, res, () => {});
}

/** Answers up to this size (by Content-Length) are relayed in one write. */
const SMALL_BODY_BYTES = 64 * 1024;

/** The owner's answer as a web Response, for `stub.fetch()`. */
export function toWebResponse(response: IncomingMessage, method: string): Response {
  const raw = response.rawHeaders;
  const headers = new Headers();
  for (let i = 0; i < raw.length; i += 2) {
    if (!RESPONSE_HOP_HEADERS.has(raw[i]!.toLowerCase())) headers.append(raw[i]!, raw[i + 1]!);
  }
  const status = response.statusCode ?? 502;
  const empty = method === "HEAD" || status === 204 || status === 205 || status === 304;
  if (empty) response.resume();
  const body = empty ? null : (Readable.toWeb(response) as unknown as ReadableStream<Uint8Array>);
  return new Response(body, { status, statusText: response.statusMessage ?? "", headers });
}
