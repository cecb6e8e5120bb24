/**
 * PROTOTYPE (issue 20, measuring node:http2 against the peer link): the edge's HTTP/2 session
 * to one peer, opened over an upgraded connection that carries the cluster secret, shared by
 * every request this node forwards there. A proxied WebSocket is an extended CONNECT stream.
 */
import { connect as http2Connect, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from "node:http2";
import { request as httpRequest, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { Readable, pipeline, type Duplex } from "node:stream";
import type * as Party from "../types/party.js";
import { CF_HEADER, EDGE_HEADER, INTERNAL_HEADER, MOVED_HEADER, URL_HEADER } from "../server/internal-auth.js";
import { isResponseHopHeader, type OutboundBody } from "./forward-http.js";
import { PARTY_HEADER, ROOM_HEADER, SESSION_WINDOW_BYTES, WINDOW_BYTES } from "./h2-owner.js";
import { splitAddress } from "./peer-agents.js";

export const PEER_H2_UPGRADE = "partyhouse-h2";
const CONNECT_TIMEOUT_MS = 5_000;
const SMALL_BODY_BYTES = 64 * 1024;

type Unreachable = { readonly kind: "unreachable"; readonly error: Error };
export type H2Answer =
  | { readonly kind: "response"; readonly headers: IncomingHttpHeaders; readonly stream: ClientHttp2Stream }
  | { readonly kind: "moved"; readonly owner: string }
  | Unreachable;

const SKIP = new Set(["content-length", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer", "upgrade", "host", INTERNAL_HEADER, URL_HEADER, CF_HEADER, EDGE_HEADER]);

export class H2Edge {
  private session: ClientHttp2Session | undefined;
  private opening: Promise<ClientHttp2Session> | undefined;

  constructor(
    private readonly address: string,
    private readonly secret: string,
  ) {}

  async request(party: string, room: string, request: Party.Request, body: OutboundBody, edge?: string): Promise<H2Answer> {
    const session = await this.connected();
    if ("kind" in session) return session;
    const url = new URL(request.url);
    const headers: OutgoingHttpHeaders = { ":method": request.method, ":path": url.pathname + url.search, ":authority": request.headers.get("host") ?? url.host };
    for (const [name, value] of request.headers) {
      if (SKIP.has(name)) continue;
      const had = headers[name];
      headers[name] = had === undefined ? value : Array.isArray(had) ? [...had, value] : [String(had), value];
    }
    headers[PARTY_HEADER] = party;
    headers[ROOM_HEADER] = room;
    headers[URL_HEADER] = request.url;
    headers[CF_HEADER] = JSON.stringify(request.cf ?? {});
    if (edge !== undefined) headers[EDGE_HEADER] = edge;
    if (body.kind === "buffer") headers["content-length"] = body.data.length;
    let stream: ClientHttp2Stream;
    try {
      stream = session.request(headers, { endStream: body.kind === "none" });
    } catch (error) {
      return { kind: "unreachable", error: error as Error };
    }
    if (body.kind === "buffer") stream.end(body.data);
    else if (body.kind === "stream") {
      body.source.on("error", (error) => stream.destroy(error));
      body.source.pipe(stream);
    }
    return new Promise((resolve) => {
      let answered = false;
      stream.once("response", (headers) => {
        answered = true;
        const moved = headers[MOVED_HEADER];
        if (headers[":status"] === 503 && typeof moved === "string") {
          stream.resume();
          if (body.kind === "stream") stream.close();
          return resolve({ kind: "moved", owner: moved });
        }
        resolve({ kind: "response", headers, stream });
      });
      stream.on("error", (error) => {
        if (!answered) resolve({ kind: "unreachable", error });
      });
    });
  }

  /** An extended CONNECT stream (RFC 8441) to the peer: the proxied WebSocket's bytes. */
  async openWebSocket(path: string, authority: string): Promise<Duplex | Unreachable> {
    const session = await this.connected();
    if ("kind" in session) return session;
    let stream: ClientHttp2Stream;
    try {
      stream = session.request({ ":method": "CONNECT", ":protocol": "websocket", ":path": path, ":scheme": "http", ":authority": authority });
    } catch (error) {
      return { kind: "unreachable", error: error as Error };
    }
    return new Promise((resolve) => {
      stream.once("response", (headers) => {
        if (headers[":status"] === 200) return resolve(asSocket(stream));
        stream.destroy();
        resolve({ kind: "unreachable", error: new Error(`CONNECT refused: ${headers[":status"]}`) });
      });
      stream.once("error", (error) => resolve({ kind: "unreachable", error }));
    });
  }

  close(): void {
    this.session?.close();
  }

  private async connected(): Promise<ClientHttp2Session | Unreachable> {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    try {
      return await this.open();
    } catch (error) {
      return { kind: "unreachable", error: error as Error };
    }
  }

  private open(): Promise<ClientHttp2Session> {
    this.opening ??= upgraded(this.address, this.secret).then(
      ({ socket, head }) => {
        this.opening = undefined;
        if (head.length > 0) socket.unshift(head);
        socket.setNoDelay(true);
        const session = http2Connect(`http://${this.address}`, { createConnection: () => socket, settings: { initialWindowSize: WINDOW_BYTES } });
        session.once("connect", () => session.setLocalWindowSize(SESSION_WINDOW_BYTES));
        session.on("error", () => {});
        session.once("close", () => {
          if (this.session === session) this.session = undefined;
        });
        this.session = session;
        return session;
      },
      (error: unknown) => {
        this.opening = undefined;
        throw error;
      },
    );
    return this.opening;
  }
}

function upgraded(address: string, secret: string): Promise<{ socket: Socket; head: Buffer }> {
  const { host, port } = splitAddress(address);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host, port, path: "/", agent: false, headers: { connection: "Upgrade", upgrade: PEER_H2_UPGRADE, [INTERNAL_HEADER]: secret } });
    req.setTimeout(CONNECT_TIMEOUT_MS, () => req.destroy(new Error(`no peer session from ${address} in ${CONNECT_TIMEOUT_MS} ms`)));
    req.on("upgrade", (_res, socket: Socket, head: Buffer) => resolve({ socket, head }));
    req.on("response", (res) => {
      res.resume();
      reject(new Error(`${address} refused a peer session: ${res.statusCode}`));
    });
    req.on("error", reject);
    req.end();
  });
}

function clientHeaders(headers: IncomingHttpHeaders): string[] {
  const out: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(":") || value === undefined || isResponseHopHeader(name)) continue;
    if (Array.isArray(value)) for (const v of value) out.push(name, v);
    else out.push(name, String(value));
  }
  return out;
}

export function relayH2(answer: Extract<H2Answer, { kind: "response" }>, res: ServerResponse, head: boolean): void {
  const status = Number(answer.headers[":status"] ?? 502);
  const headers = clientHeaders(answer.headers);
  const { stream } = answer;
  if (head) {
    res.writeHead(status, headers);
    res.end();
    stream.resume();
    return;
  }
  if (Number(answer.headers["content-length"]) <= SMALL_BODY_BYTES) {
    const chunks: Buffer[] = [];
    stream.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.on("end", () => {
      res.writeHead(status, headers);
      res.end(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    });
    stream.on("error", () => res.destroy());
    return;
  }
  res.writeHead(status, headers);
  pipeline(stream, res, () => {});
}

export function h2ToWebResponse(answer: Extract<H2Answer, { kind: "response" }>, method: string): Response {
  const status = Number(answer.headers[":status"] ?? 502);
  const pairs = clientHeaders(answer.headers);
  const headers = new Headers();
  for (let i = 0; i < pairs.length; i += 2) headers.append(pairs[i]!, pairs[i + 1]!);
  const empty = method === "HEAD" || status === 204 || status === 205 || status === 304;
  if (empty) answer.stream.resume();
  const body = empty ? null : (Readable.toWeb(answer.stream) as unknown as ReadableStream<Uint8Array>);
  return new Response(body, { status, headers });
}

function asSocket(stream: ClientHttp2Stream): Duplex {
  const socketish = stream as unknown as { setNoDelay?: () => unknown; setKeepAlive?: () => unknown };
  socketish.setNoDelay = () => stream;
  socketish.setKeepAlive = () => stream;
  return stream;
}
