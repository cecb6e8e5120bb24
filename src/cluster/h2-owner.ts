/**
 * PROTOTYPE (issue 20, measuring node:http2 against the peer link): the owner's end of an HTTP/2
 * session a peer opened over an upgraded connection. Each stream is a forwarded request for a
 * room here; a CONNECT with `:protocol: websocket` (RFC 8441) is a proxied WebSocket whose bytes
 * this node's HTTP server serves like any connection.
 */
import { constants, createServer, type Http2Server, type Http2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from "node:http2";
import type { Socket } from "node:net";
import { Readable, pipeline, type Duplex } from "node:stream";
import type * as Party from "../types/party.js";
import { impliedContentType, LazyResponse } from "../server/lazy-response.js";
import { CF_HEADER, URL_HEADER } from "../server/internal-auth.js";
import type { OwnerLinkHandlers } from "./link-owner.js";

export const PARTY_HEADER = "x-partyhouse-party";
export const ROOM_HEADER = "x-partyhouse-room";
const OWN_HEADERS = new Set([PARTY_HEADER, ROOM_HEADER, URL_HEADER, CF_HEADER]);
/** Bodies up to this size (by content-length) are read before the Request is built. */
const SMALL_BODY_BYTES = 64 * 1024;
/** Flow-control windows well above the 64 KiB default, so one stream can fill a fast link. */
export const WINDOW_BYTES = 4 * 1024 * 1024;
export const SESSION_WINDOW_BYTES = 32 * 1024 * 1024;

export class H2Owner {
  private readonly server: Http2Server;
  private readonly sessions = new Set<Http2Session>();

  constructor(private readonly handlers: OwnerLinkHandlers) {
    this.server = createServer({ settings: { enableConnectProtocol: true, initialWindowSize: WINDOW_BYTES } });
    this.server.on("stream", (stream, headers, flags) => this.stream(stream, headers, flags));
    this.server.on("sessionError", () => {});
    this.server.on("session", (session) => {
      this.sessions.add(session);
      session.setLocalWindowSize(SESSION_WINDOW_BYTES);
      session.once("close", () => this.sessions.delete(session));
    });
  }

  accept(socket: Socket, head: Buffer): void {
    if (head.length > 0) socket.unshift(head);
    socket.setNoDelay(true);
    this.server.emit("connection", socket);
  }

  close(): void {
    for (const session of this.sessions) session.close();
    this.server.close();
  }

  private stream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number): void {
    stream.on("error", () => {});
    if (headers[":method"] === "CONNECT") {
      if (headers[":protocol"] !== "websocket") return void stream.respond({ ":status": 400 }, { endStream: true });
      stream.respond({ ":status": 200 });
      return this.handlers.connection(asSocket(stream));
    }
    this.serve(stream, headers, flags).catch(this.handlers.failure);
  }

  private async serve(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number): Promise<void> {
    const method = headers[":method"] ?? "GET";
    const request = await requestOf(stream, headers, flags, method);
    let response: Response;
    try {
      response = await this.handlers.request(String(headers[PARTY_HEADER]), String(headers[ROOM_HEADER]), request);
    } catch (error) {
      this.handlers.failure(error);
      response = new Response(error instanceof Error ? error.message : String(error), { status: 500 });
    }
    respond(stream, response, method === "HEAD");
  }
}

async function requestOf(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, method: string): Promise<Party.Request> {
  const web = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(":") || OWN_HEADERS.has(name) || value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) web.append(name, v);
    else web.append(name, value);
  }
  if (!web.has("host") && headers[":authority"]) web.set("host", headers[":authority"]);
  const init: RequestInit & { duplex?: "half" } = { method, headers: web };
  const ended = (flags & constants.NGHTTP2_FLAG_END_STREAM) !== 0;
  if (!ended && method !== "GET" && method !== "HEAD") {
    const length = Number(headers["content-length"]);
    if (length <= SMALL_BODY_BYTES) {
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      init.body = Buffer.concat(chunks) as unknown as BodyInit;
    } else {
      init.body = new ReadableStream<Uint8Array>({
        start(controller) {
          stream.on("data", (chunk: Buffer) => {
            controller.enqueue(chunk);
            if ((controller.desiredSize ?? 0) <= 0) stream.pause();
          });
          stream.on("end", () => controller.close());
          stream.on("error", (error) => controller.error(error));
        },
        pull: () => void stream.resume(),
        cancel: () => void stream.destroy(),
      }) as unknown as BodyInit;
      init.duplex = "half";
    }
  } else stream.resume();
  const request = new Request(String(headers[URL_HEADER]), init);
  const cf = headers[CF_HEADER];
  Object.defineProperty(request, "cf", { value: typeof cf === "string" ? JSON.parse(cf) : {}, enumerable: true, configurable: true, writable: true });
  return request as Party.Request;
}

function respond(stream: ServerHttp2Stream, response: Response, head: boolean): void {
  if (stream.destroyed || stream.closed) return;
  const lazy = LazyResponse.unwrap(response);
  if (lazy !== undefined) {
    const out = headersOf(lazy.status, lazy.headers);
    const implied = impliedContentType(lazy);
    if (implied !== undefined) out["content-type"] = implied;
    const body = lazy.body === null || head ? undefined : typeof lazy.body === "string" ? Buffer.from(lazy.body) : lazy.body;
    if (body !== undefined) out["content-length"] = body.length;
    stream.respond(out, { endStream: body === undefined });
    if (body !== undefined) stream.end(body);
    return;
  }
  const out = headersOf(response.status, response.headers);
  const source = response.body;
  if (source === null || head) {
    source?.cancel().catch(() => {});
    return void stream.respond(out, { endStream: true });
  }
  stream.respond(out);
  pipeline(Readable.fromWeb(source as import("node:stream/web").ReadableStream<Uint8Array>), stream, () => {});
}

const CONNECTION_HEADERS = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"]);

function headersOf(status: number, headers: Headers | undefined): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = { ":status": status };
  if (headers === undefined) return out;
  for (const [name, value] of headers) {
    if (CONNECTION_HEADERS.has(name)) continue;
    const had = out[name];
    if (had === undefined) out[name] = value;
    else out[name] = Array.isArray(had) ? [...had, value] : [String(had), value];
  }
  return out;
}

/** What node:http and ws call on a socket; an HTTP/2 stream has nothing to set. */
function asSocket(stream: ServerHttp2Stream): Duplex {
  const socketish = stream as unknown as { setNoDelay?: () => unknown; setKeepAlive?: () => unknown };
  socketish.setNoDelay = () => stream;
  socketish.setKeepAlive = () => stream;
  return stream;
}
