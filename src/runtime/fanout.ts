import type { Socket } from "node:net";
import type { Logger } from "./logger.js";
import type { SocketRecord } from "./socket-record.js";

/** Default bound on bytes queued for one client before it is dropped as too slow. */
export const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/**
 * Writes pre-framed bytes straight to client TCP sockets. Each socket is corked on its first
 * write in a turn of the event loop and uncorked once at the end of the turn (setImmediate,
 * after all ready input was handled), so many messages leave in one syscall and one server
 * wake-up answers many clients; the cost of a broadcast is one write per recipient, not one
 * encode + frame + write. Single sends take the same path, which keeps their order with
 * broadcasts.
 *
 * Safe beside `ws`'s own writes because partyhouse runs `ws` without compression and never
 * sends Blobs, so `ws` writes synchronously in call order and never holds frames back.
 */
export class Fanout {
  private readonly corked: Socket[] = [];
  private uncorkScheduled = false;

  constructor(
    private readonly logger: Logger,
    private readonly maxBufferedBytes = DEFAULT_MAX_BUFFERED_BYTES,
  ) {}

  write(record: SocketRecord, frame: Buffer): void {
    const raw = record.raw;
    if (raw === null || raw.destroyed || this.isOverloaded(record)) return;
    if (raw.writableCorked === 0) {
      raw.cork();
      this.corked.push(raw);
      if (!this.uncorkScheduled) {
        this.uncorkScheduled = true;
        setImmediate(this.uncorkAll);
      }
    }
    raw.write(frame);
  }

  /**
   * A client that does not read while messages pile up would grow the process without bound;
   * past the limit it is disconnected (its room sees onClose) instead.
   */
  isOverloaded(record: SocketRecord): boolean {
    const raw = record.raw;
    if (raw === null || raw.writableLength <= this.maxBufferedBytes) return false;
    this.logger.log("warn", "dropping a client that does not keep up", {
      connection: record.id,
      bufferedBytes: raw.writableLength,
    });
    record.ws?.terminate();
    return true;
  }

  private readonly uncorkAll = (): void => {
    this.uncorkScheduled = false;
    for (const raw of this.corked.splice(0)) raw.uncork();
  };
}
