/**
 * Follows WebSocket frame boundaries (RFC 6455 §5.2) in a byte stream without parsing payloads,
 * so a tunnel that relays raw bytes can still end the stream cleanly: finish the frame in flight,
 * then append a close frame of its own. Costs a few header bytes per frame, nothing per byte.
 */

/** Longest frame header: 2 bytes, 8 of extended length, 4 of masking key. */
const MAX_HEADER_BYTES = 14;

export class FrameBoundary {
  private readonly header = Buffer.alloc(MAX_HEADER_BYTES);
  private headerBytes = 0;
  private payloadLeft = 0;

  /** Whether the bytes seen so far end exactly where a frame ends. */
  get atBoundary(): boolean {
    return this.headerBytes === 0 && this.payloadLeft === 0;
  }

  /**
   * Walks `chunk`. With `stopAtBoundary`, stops at the first frame boundary (at once if already
   * at one) and returns how many bytes belong before it; otherwise consumes the whole chunk.
   */
  scan(chunk: Uint8Array, stopAtBoundary = false): number {
    let at = 0;
    if (stopAtBoundary && this.atBoundary) return 0;
    while (at < chunk.length) {
      if (this.payloadLeft > 0) {
        const take = Math.min(this.payloadLeft, chunk.length - at);
        this.payloadLeft -= take;
        at += take;
      } else {
        this.header[this.headerBytes++] = chunk[at++]!;
        const needed = this.headerLength();
        if (needed === undefined || this.headerBytes < needed) continue;
        this.payloadLeft = this.payloadLength();
        this.headerBytes = 0;
      }
      if (stopAtBoundary && this.atBoundary) return at;
    }
    return at;
  }

  /** The full header's length once its first two bytes are known. */
  private headerLength(): number | undefined {
    if (this.headerBytes < 2) return undefined;
    const second = this.header[1]!;
    const lengthCode = second & 0x7f;
    const extended = lengthCode === 126 ? 2 : lengthCode === 127 ? 8 : 0;
    const mask = second & 0x80 ? 4 : 0;
    return 2 + extended + mask;
  }

  private payloadLength(): number {
    const lengthCode = this.header[1]! & 0x7f;
    if (lengthCode === 126) return this.header.readUInt16BE(2);
    if (lengthCode === 127) return Number(this.header.readBigUInt64BE(2));
    return lengthCode;
  }
}

/** An unmasked close frame (server to client) with a code and a reason of at most 123 bytes. */
export function serverCloseFrame(code: number, reason: string): Buffer {
  const text = Buffer.from(reason).subarray(0, 123);
  const frame = Buffer.alloc(4 + text.length);
  frame[0] = 0x88; // FIN + opcode 8 (close)
  frame[1] = 2 + text.length;
  frame.writeUInt16BE(code, 2);
  text.copy(frame, 4);
  return frame;
}
