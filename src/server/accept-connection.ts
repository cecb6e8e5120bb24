/**
 * Serving a connection that was accepted elsewhere (a worker's, handed over IPC by its
 * supervisor) exactly as the server serves its own. `http.Server` turns Nagle's algorithm off
 * (TCP_NODELAY, its `noDelay` default) only for sockets its own listener accepts; a socket
 * emitted as `connection` kept Nagle on, so a response written in several parts (a streamed
 * body: the head and first chunk, then the end) waited for the client's delayed ACK: 46 ms per
 * request on `--workers 2` against 6 ms on one process. WebSockets were spared only because
 * `ws` sets TCP_NODELAY itself on upgrade.
 *
 * Whoever hands a connection in may watch it (ConnectionObserver): when a request starts on it,
 * when its response is done, when it becomes a WebSocket. A worker uses that to give an idle
 * kept-alive connection back to its supervisor (src/workers/idle-connections.ts).
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";

/** What the one who handed a connection in hears about it. */
export interface ConnectionObserver {
  /** A request arrived on the connection (its head is parsed). */
  requestStarted(): void;
  /** A request's response is done: sent whole, or abandoned. */
  answered(): void;
  /** A request is done: answered, and read to its end. */
  requestEnded(): void;
  /** The connection asked to become a WebSocket: no more HTTP requests on it. */
  upgraded(): void;
}

export class HandedInConnections {
  private readonly observers = new WeakMap<object, ConnectionObserver>();
  private listening = false;

  constructor(private readonly server: Server) {}

  accept(socket: Socket, observer?: ConnectionObserver): void {
    if (observer !== undefined) {
      this.listen();
      this.observers.set(socket, observer);
    }
    socket.setNoDelay(true);
    this.server.emit("connection", socket);
  }

  /** Listens to the server's requests only once a connection is watched: a server that never is pays nothing per request. */
  private listen(): void {
    if (this.listening) return;
    this.listening = true;
    // First, so the response's end is seen even when the front door answers at once.
    this.server.prependListener("request", (request: IncomingMessage, response: ServerResponse) => {
      const observer = this.observers.get(request.socket);
      if (observer === undefined) return;
      observer.requestStarted();
      // Done once answered and read whole: a response may end before its request's body has
      // arrived (Node reads and drops the rest after), and those bytes belong to this request.
      response.once("close", () => {
        observer.answered();
        if (request.complete) observer.requestEnded();
        else request.once("end", () => observer.requestEnded());
      });
    });
    this.server.prependListener("upgrade", (request: IncomingMessage) => this.observers.get(request.socket)?.upgraded());
  }
}
