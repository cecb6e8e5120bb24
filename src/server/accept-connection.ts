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
  /** A request arrived on the connection (its head is parsed); its size as sent, if known (requestSize). */
  requestStarted(size: number | undefined): void;
  /** A request is done: answered, and read to its end. */
  requestEnded(): void;
  /** The connection asked to become a WebSocket: no more HTTP requests on it. */
  upgraded(): void;
}

/**
 * The bytes a request took on the wire, as clients write requests (`Name: value` header lines, a
 * Content-Length body): the request line, each raw header, the blank line and the body. Node's
 * parser keeps no count; the one who handed the connection in compares this with the socket's
 * `bytesRead` to know that nothing of a next request has been read. A client that writes headers
 * otherwise (`Name:value`, folded lines, blank lines before the request) makes the sum differ,
 * which only errs on the side of "something more was read". Undefined for a chunked body.
 */
export function requestSize(request: IncomingMessage): number | undefined {
  // Node hands the request line and headers over as one-byte strings: length is bytes. Read
  // from rawHeaders only: `request.headers` is built on first read, a cost every request would pay.
  let size = request.method!.length + 1 + request.url!.length + " HTTP/".length + request.httpVersion.length + 2 + 2;
  const raw = request.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    size += name.length + 2 + value.length + 2;
    if (name.length === TRANSFER_ENCODING.length && name.toLowerCase() === TRANSFER_ENCODING) return undefined;
    if (name.length === CONTENT_LENGTH.length && name.toLowerCase() === CONTENT_LENGTH) size += Number(value);
  }
  return size;
}

const TRANSFER_ENCODING = "transfer-encoding";
const CONTENT_LENGTH = "content-length";

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
      observer.requestStarted(requestSize(request));
      // Done once answered and read whole: a response may end before its request's body has
      // arrived (Node reads and drops the rest after), and those bytes belong to this request.
      response.once("close", () => {
        if (request.complete) observer.requestEnded();
        else request.once("end", () => observer.requestEnded());
      });
    });
    this.server.prependListener("upgrade", (request: IncomingMessage) => this.observers.get(request.socket)?.upgraded());
  }
}
