/**
 * Joins a client's WebSocket (held by the edge) to its upstream on the owner: frames both ways
 * with their text/binary kind, close codes and reasons both ways, and backpressure per socket —
 * a side that cannot keep up pauses reading from the other, so memory per proxied socket stays
 * bounded; if it still overflows, both sides are closed with 1013.
 */
import type { RawData, WebSocket } from "ws";

const OPEN = 1;
/** Above this many bytes queued toward one side, stop reading from the other. */
export const HIGH_WATER_BYTES = 1024 * 1024;
/** Queued bytes at which the pair is closed instead (pausing lags by what was already read). */
export const OVERFLOW_BYTES = 16 * 1024 * 1024;

export class SocketSplice {
  private ended = false;

  constructor(
    readonly client: WebSocket,
    readonly upstream: WebSocket,
    private readonly onEnd: (splice: SocketSplice) => void,
  ) {
    client.on("message", (data, isBinary) => this.relay(upstream, client, data, isBinary));
    upstream.on("message", (data, isBinary) => this.relay(client, upstream, data, isBinary));
    client.on("close", (code, reason) => this.closed(upstream, code, reason));
    upstream.on("close", (code, reason) => this.closed(client, code, reason));
    // A transport error is followed by 'close', which carries it to the other side.
    client.on("error", ignore);
    upstream.on("error", ignore);
    if (upstream.isPaused) upstream.resume();
  }

  /** Server stop: the client is told to reconnect (1012), the owner sees it leave. */
  shutdown(code: number, reason: string): void {
    closeWith(this.client, code, Buffer.from(reason));
    closeWith(this.upstream, 1001, Buffer.from(reason));
  }

  private relay(to: WebSocket, from: WebSocket, data: RawData, isBinary: boolean): void {
    if (to.readyState !== OPEN) return;
    const queued = to.bufferedAmount;
    if (queued > OVERFLOW_BYTES) {
      closeWith(to, 1013, Buffer.from("proxy buffer full"));
      closeWith(from, 1013, Buffer.from("proxy buffer full"));
      return;
    }
    const size = sizeOf(data);
    if (queued + size > HIGH_WATER_BYTES && !from.isPaused) {
      from.pause();
      // Writes leave in order: once this one is flushed, so is everything queued before it.
      to.send(data, { binary: isBinary }, () => {
        if (from.readyState === OPEN) from.resume();
      });
      return;
    }
    to.send(data, { binary: isBinary });
  }

  private closed(other: WebSocket, code: number, reason: Buffer): void {
    closeWith(other, code, reason);
    if (!this.ended) {
      this.ended = true;
      this.onEnd(this);
    }
  }
}

/**
 * Passes a close on. 1005 (no code given) closes without a code; 1006 (connection lost) and
 * codes no endpoint may send are passed as a dropped connection, which the other side reports
 * as 1006 too.
 */
function closeWith(ws: WebSocket, code: number, reason: Buffer): void {
  if (ws.readyState !== OPEN && ws.readyState !== 0) return;
  if (code === 1005) return ws.close();
  if (!isSendableCode(code)) return ws.terminate();
  ws.close(code, reason);
}

function isSendableCode(code: number): boolean {
  return (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999);
}

function sizeOf(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((n, b) => n + b.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

function ignore(): void {}
