/** Helpers for front-door tests that need to send what fetch() would refuse or rewrite. */
import { connect } from "node:net";

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The whole response as received (latin1). */
  text: string;
}

/**
 * Sends `head` (request line and headers, without the blank line) plus `body` on a fresh
 * connection with `Connection: close`, and resolves with what came back once the server closes.
 */
export function rawRequest(port: number, head: string, body = ""): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.end(`${head}\r\nConnection: close\r\n\r\n${body}`));
    let text = "";
    socket.on("data", (chunk: Buffer) => (text += chunk.toString("latin1")));
    socket.on("error", reject);
    socket.on("close", () => resolve(parseRaw(text)));
  });
}

export function parseRaw(text: string): RawResponse {
  const split = text.indexOf("\r\n\r\n");
  const headLines = (split < 0 ? text : text.slice(0, split)).split("\r\n");
  const status = Number(/^HTTP\/1\.1 (\d+)/.exec(headLines[0] ?? "")?.[1] ?? 0);
  const headers: Record<string, string> = {};
  for (const line of headLines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const raw = split < 0 ? "" : text.slice(split + 4);
  return { status, headers, body: headers["transfer-encoding"] === "chunked" ? unchunk(raw) : raw, text };
}

function unchunk(raw: string): string {
  let body = "";
  let at = 0;
  for (;;) {
    const lineEnd = raw.indexOf("\r\n", at);
    if (lineEnd < 0) return body;
    const size = parseInt(raw.slice(at, lineEnd), 16);
    if (!(size > 0)) return body;
    body += raw.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
  }
}
