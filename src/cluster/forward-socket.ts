/**
 * Forwarding one WebSocket to the node that owns its room: one upstream `ws` connection per
 * client socket (why: src/cluster/README.md). The client's handshake completes only after the
 * owner accepted, so an owner's refusal reaches the client as an HTTP status.
 */
import WebSocket from "ws";
import type * as Party from "../types/party.js";
import { CF_HEADER, INTERNAL_HEADER, MOVED_HEADER, URL_HEADER } from "../server/internal-auth.js";

export type UpstreamOpen =
  | { readonly kind: "open"; readonly upstream: WebSocket }
  | { readonly kind: "moved" }
  | { readonly kind: "rejected"; readonly response: Response }
  | { readonly kind: "unreachable"; readonly error: Error };

/** Headers `ws` writes for its own handshake, or that describe the client's hop. */
const HANDSHAKE_HEADERS = new Set([
  "connection",
  "upgrade",
  "keep-alive",
  "sec-websocket-key",
  "sec-websocket-version",
  "sec-websocket-extensions",
  "sec-websocket-protocol",
  "content-length",
  "transfer-encoding",
  INTERNAL_HEADER,
  URL_HEADER,
  CF_HEADER,
]);

/** Frames between nodes stay unmasked: masking protects browsers' proxies, not a node's own link. */
function zeroMask(mask: Buffer): void {
  mask.fill(0);
}

/**
 * Opens the owner's side. `path` is the client's request target (it routes to the same room);
 * the room sees `request.url`, its headers and `cf`, as the edge had them after onBeforeConnect.
 */
export function openUpstream(address: string, path: string, request: Party.Request, secret: string): Promise<UpstreamOpen> {
  const headers: Record<string, string> = {};
  for (const [name, value] of request.headers) if (!HANDSHAKE_HEADERS.has(name)) headers[name] = value;
  headers.host ??= new URL(request.url).host;
  headers[INTERNAL_HEADER] = secret;
  headers[URL_HEADER] = request.url;
  headers[CF_HEADER] = JSON.stringify(request.cf ?? {});
  const offered = request.headers.get("sec-websocket-protocol");
  const protocols = offered ? offered.split(",").map((p) => p.trim()).filter((p) => p !== "") : [];

  const upstream = new WebSocket(`ws://${address}${path}`, protocols, {
    headers,
    perMessageDeflate: false,
    // The owner's frames were valid UTF-8 when its room sent them; checking again costs CPU.
    skipUTF8Validation: true,
    generateMask: zeroMask,
    handshakeTimeout: 10_000,
    followRedirects: false,
  });
  return new Promise((resolve) => {
    upstream.once("open", () => {
      // Frames the owner sent with its 101 (onConnect) wait until the client's socket is ready.
      upstream.pause();
      resolve({ kind: "open", upstream });
    });
    upstream.once("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("error", () => {});
      res.on("end", () => {
        upstream.terminate();
        const code = res.statusCode ?? 502;
        const status = code >= 200 && code <= 599 ? code : 502;
        if (status === 503 && res.headers[MOVED_HEADER] !== undefined) return resolve({ kind: "moved" });
        const answer = new Headers();
        const raw = res.rawHeaders;
        for (let i = 0; i < raw.length; i += 2) answer.append(raw[i]!, raw[i + 1]!);
        resolve({ kind: "rejected", response: new Response(Buffer.concat(chunks), { status, headers: answer }) });
      });
    });
    // `on`, not `once`: a later error (before the splice listens) must not be thrown. Once the
    // promise settled, resolving again does nothing.
    upstream.on("error", (error) => resolve({ kind: "unreachable", error }));
  });
}
