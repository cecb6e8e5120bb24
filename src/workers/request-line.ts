/**
 * The supervisor reads each new connection's request line, and only that, to route it; then
 * the socket goes to a worker with the bytes read so far. For the hand-off to lose nothing,
 * this process must have stopped reading the socket when it sends it (whatever it read later
 * would be dropped with its copy of the socket). Node stops reading a socket when a chunk
 * leaves its buffer above the high-water mark, so the listening server is created with
 * `highWaterMark: 1` and `pauseOnConnect: true` (LISTEN_OPTIONS), and the chunk that completes
 * the line is put back (`unshift`) inside its own `data` event: the buffer is then above the
 * mark, Node stops reading, and nothing more arrives here. The copy put back is never read
 * again; the worker gets the bytes in the message.
 */
import type { Socket } from "node:net";

/** For `net.createServer`: see the top of this file. */
export const LISTEN_OPTIONS = { pauseOnConnect: true, highWaterMark: 1 } as const;

/** Longest request line accepted (method, target, version); Node's own header limit is 16 KiB. */
export const MAX_REQUEST_LINE_BYTES = 16 * 1024;
/** A client that has not sent its request line by then is dropped (slow or idle clients). */
export const REQUEST_LINE_TIMEOUT_MS = 10_000;

export interface RequestLine {
  /** Every byte read from the socket, to be replayed by the worker. */
  readonly bytes: Buffer;
  /** The request target as sent (`/parties/main/room?x=1`). */
  readonly target: string;
}

export interface ReadOptions {
  readonly maxBytes?: number;
  readonly timeoutMs?: number;
}

/**
 * Resolves once the request line is in, with reading stopped; undefined if the client closed,
 * timed out, or sent more than `maxBytes` without a line end (the socket is then destroyed,
 * or answered 431 for an overlong line).
 */
export function readRequestLine(socket: Socket, options: ReadOptions = {}): Promise<RequestLine | undefined> {
  const maxBytes = options.maxBytes ?? MAX_REQUEST_LINE_BYTES;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = (line: RequestLine | undefined) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("close", onClose);
      socket.off("error", onClose);
      resolve(line);
    };
    const onData = (chunk: Buffer) => {
      const searchFrom = Math.max(0, length - 1);
      chunks.push(chunk);
      length += chunk.length;
      const bytes = chunks.length === 1 ? chunk : Buffer.concat(chunks);
      const end = bytes.indexOf("\r\n", searchFrom, "latin1");
      if (end === -1) {
        if (length > maxBytes) {
          socket.end("HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
          finish(undefined);
        }
        return;
      }
      socket.pause();
      // Back into the buffer, above the high-water mark: Node stops reading when this returns.
      socket.unshift(chunk);
      finish({ bytes, target: targetOf(bytes.toString("latin1", 0, end)) });
    };
    const onClose = () => {
      socket.destroy();
      finish(undefined);
    };
    const timer = setTimeout(onClose, options.timeoutMs ?? REQUEST_LINE_TIMEOUT_MS);
    socket.on("data", onData);
    socket.once("close", onClose);
    // A reset client ends this read (the socket closes); the caller keeps its own listener.
    socket.on("error", onClose);
    socket.resume();
  });
}

/** The request line at the start of bytes read before (a resume a worker gave back); undefined without a line end. */
export function requestLineOf(bytes: Buffer): RequestLine | undefined {
  const end = bytes.indexOf("\r\n", 0, "latin1");
  return end === -1 ? undefined : { bytes, target: targetOf(bytes.toString("latin1", 0, end)) };
}

/** `GET /parties/main/r HTTP/1.1` → `/parties/main/r`; "" for a line that is not a request. */
function targetOf(line: string): string {
  const first = line.indexOf(" ");
  const last = line.lastIndexOf(" ");
  return first === -1 || last <= first ? "" : line.slice(first + 1, last);
}
