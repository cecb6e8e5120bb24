/**
 * Serving a connection that was accepted elsewhere (a worker's, handed over IPC by its
 * supervisor) exactly as the server serves its own. `http.Server` turns Nagle's algorithm off
 * (TCP_NODELAY, its `noDelay` default) only for sockets its own listener accepts; a socket
 * emitted as `connection` kept Nagle on, so a response written in several parts (a streamed
 * body: the head and first chunk, then the end) waited for the client's delayed ACK: 46 ms per
 * request on `--workers 2` against 6 ms on one process. WebSockets were spared only because
 * `ws` sets TCP_NODELAY itself on upgrade.
 */
import type { Server } from "node:http";
import type { Socket } from "node:net";

export function acceptConnection(server: Server, socket: Socket): void {
  socket.setNoDelay(true);
  server.emit("connection", socket);
}
