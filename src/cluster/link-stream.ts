/**
 * A virtual connection carried by a peer link: a Duplex whose bytes travel as StreamData frames,
 * with half-close (StreamEnd), abort (StreamReset) and flow control (Pause / Resume) of its own.
 * node:http and `ws` run over it as over a TCP socket (node:http takes any Duplex as a
 * connection), so a proxied WebSocket needs no connection of its own between the nodes and its
 * frames share the link's one write per turn with every other stream.
 *
 * Flow control: when what arrived is not being read (push() says stop), the peer is asked to
 * pause; when the peer asks us to pause, writes are held, so the writer sees its buffer grow and
 * backs off (ws's bufferedAmount, a tunnel's pause of its client socket).
 */
import { Duplex } from "node:stream";
import type { LinkConnection } from "./link-connection.js";
import { encodeFrame, FrameType, MAX_CHUNK_BYTES } from "./link-frames.js";

export class LinkStream extends Duplex {
  /** The peer asked us to stop sending. */
  private peerPaused = false;
  /** We asked the peer to stop sending. */
  private pausedPeer = false;
  /** The write callback held while the peer is paused or the link is congested. */
  private heldWrite: (() => void) | undefined;
  /** The peer's side is gone (it reset, or the link broke): nothing more to tell it. */
  private peerGone = false;

  constructor(
    private readonly connection: LinkConnection,
    readonly id: number,
    private readonly onGone: (stream: LinkStream) => void,
  ) {
    super({ allowHalfOpen: true });
  }

  // ---- what node:http and ws call on a socket; a virtual connection has nothing to set ----

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  setTimeout(_ms: number, callback?: () => void): this {
    if (callback) this.once("timeout", callback);
    return this;
  }

  // ---- Duplex ----

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    for (let at = 0; at < chunk.length; at += MAX_CHUNK_BYTES) {
      this.connection.send(encodeFrame(FrameType.StreamData, this.id, chunk.subarray(at, at + MAX_CHUNK_BYTES)));
    }
    if (!this.peerPaused && !this.connection.congested) return done();
    this.heldWrite = done;
    if (this.connection.congested) void this.connection.drained().then(() => this.releaseWrite());
  }

  override _final(done: (error?: Error | null) => void): void {
    if (!this.peerGone) this.connection.send(encodeFrame(FrameType.StreamEnd, this.id));
    done();
  }

  override _read(): void {
    if (!this.pausedPeer) return;
    this.pausedPeer = false;
    this.connection.send(encodeFrame(FrameType.Resume, this.id));
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    if (!this.peerGone) this.connection.send(encodeFrame(FrameType.StreamReset, this.id));
    this.peerGone = true;
    this.heldWrite = undefined;
    this.onGone(this);
    done(error);
  }

  // ---- frames from the link ----

  received(type: number, payload: Buffer): void {
    switch (type) {
      case FrameType.StreamData:
        if (!this.push(payload) && !this.pausedPeer) {
          this.pausedPeer = true;
          this.connection.send(encodeFrame(FrameType.Pause, this.id));
        }
        return;
      case FrameType.StreamEnd:
        this.push(null);
        return;
      case FrameType.StreamReset:
        this.peerGone = true;
        this.destroy();
        return;
      case FrameType.Pause:
        this.peerPaused = true;
        return;
      case FrameType.Resume:
        this.peerPaused = false;
        this.releaseWrite();
        return;
    }
  }

  /** The link broke: the connection this stream stood for is gone. */
  linkLost(error: Error): void {
    this.peerGone = true;
    this.destroy(error);
  }

  private releaseWrite(): void {
    if (this.peerPaused || this.connection.congested) return;
    const done = this.heldWrite;
    this.heldWrite = undefined;
    done?.();
  }
}
