/**
 * One end of a peer link: frames in, frames out. Outgoing frames are collected for the rest of
 * the event-loop turn and leave in one write (socket.cork until setImmediate), so a hundred
 * requests forwarded in one turn cost one syscall on each node instead of a hundred: that is
 * the point of the link.
 */
import { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { drained } from "../server/drained.js";
import { FrameReader, type Frame } from "./link-frames.js";

/** Above this many unsent bytes, producers of response bodies wait for 'drain'. */
export const LINK_HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** How long a closing link may take to flush before it is cut. */
const CLOSE_TIMEOUT_MS = 2_000;

export class LinkConnection {
  private readonly reader = new FrameReader();
  private corked = false;
  private closedError: Error | undefined;

  constructor(
    readonly socket: Duplex,
    head: Buffer,
    onFrame: (frame: Frame) => void,
    private readonly onClose: (error: Error) => void,
  ) {
    if (socket instanceof Socket) {
      socket.setNoDelay(true);
      socket.setTimeout(0);
    }
    const receive = (chunk: Buffer) => {
      let frames: Frame[];
      try {
        frames = this.reader.push(chunk);
      } catch (error) {
        socket.destroy(error as Error);
        return;
      }
      for (const frame of frames) onFrame(frame);
    };
    socket.on("data", receive);
    socket.on("error", (error) => (this.closedError ??= error));
    // The peer ended its side: nothing more will come, so end ours too (after what is queued).
    socket.on("end", () => this.close());
    socket.on("close", () => this.closed());
    if (head.length > 0) queueMicrotask(() => receive(head));
  }

  get isOpen(): boolean {
    return this.closedError === undefined && !this.socket.destroyed;
  }

  /** Whether so much is waiting to be sent that body producers should wait for `drained()`. */
  get congested(): boolean {
    return this.socket.writableLength > LINK_HIGH_WATER_BYTES;
  }

  drained(): Promise<void> {
    return drained(this.socket);
  }

  /** Queues one frame's parts for this turn's write. */
  send(parts: Uint8Array[]): void {
    if (!this.isOpen) return;
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      setImmediate(() => {
        if (!this.corked) return;
        this.corked = false;
        this.socket.uncork();
      });
    }
    for (const part of parts) this.socket.write(part);
  }

  /** Sends what is queued (a close frame a room just wrote, say), then ends the connection. */
  close(): void {
    if (this.socket.destroyed) return;
    if (this.corked) {
      this.corked = false;
      this.socket.uncork();
    }
    this.socket.end();
    setTimeout(() => this.socket.destroy(), CLOSE_TIMEOUT_MS).unref();
  }

  private closed(): void {
    const error = this.closedError ?? new Error("peer link closed");
    this.closedError = error;
    this.onClose(error);
  }
}
