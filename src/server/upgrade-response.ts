import type { Duplex } from "node:stream";
import { STATUS_CODES } from "node:http";

/**
 * Answers a WebSocket upgrade request with a plain HTTP response (a 404, a 401 from
 * onBeforeConnect, or whatever Response it returned) and closes the connection. After an
 * `upgrade` event Node hands over the raw socket, so the response is written by hand.
 */
export async function rejectUpgrade(socket: Duplex, response: Response): Promise<void> {
  if (socket.destroyed) return;
  let body: Buffer;
  try {
    body = Buffer.from(await response.arrayBuffer());
  } catch {
    body = Buffer.alloc(0);
  }
  const lines = [`HTTP/1.1 ${response.status} ${response.statusText || STATUS_CODES[response.status] || ""}`];
  response.headers.forEach((value, name) => {
    if (name !== "content-length" && name !== "connection" && name !== "transfer-encoding") {
      lines.push(`${name}: ${value.replace(/[\r\n]/g, " ")}`);
    }
  });
  lines.push(`content-length: ${body.length}`, "connection: close", "", "");
  socket.end(Buffer.concat([Buffer.from(lines.join("\r\n"), "latin1"), body]));
}
