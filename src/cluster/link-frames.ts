/**
 * The frames of a peer link (one TCP connection between two nodes that carries many forwarded
 * HTTP exchanges and proxied WebSockets at once). Each frame is
 *
 *   u32 length (of what follows) | u8 type | u32 stream id | payload
 *
 * A request or response head carries `u32 metaLength | meta (JSON) | body bytes`.
 */

export const FrameType = {
  /**
   * edge → owner: a request (meta + body); with `streamed` in its meta, the body follows in
   * Body frames and an End or Error on the same stream instead.
   */
  Request: 1,
  /**
   * Stop / go on sending on this stream: edge → owner for a response body (the client reads
   * slower), owner → edge for a streamed request body (the room reads slower), either way for a
   * virtual connection (link-stream.ts).
   */
  Pause: 2,
  Resume: 3,
  /** edge → owner: the client is gone; stop producing the body. owner → edge: the rest of the request body is not wanted. */
  Cancel: 4,
  /** edge → owner: a virtual connection (a proxied WebSocket) starts; the owner serves it as a socket. */
  StreamOpen: 5,
  /** Either way on a virtual connection: bytes, half-close, abort. */
  StreamData: 6,
  StreamEnd: 7,
  StreamReset: 8,
  /** owner → edge: a whole response (meta + body). */
  Response: 16,
  /** owner → edge: a response head; Body frames and one End or Error follow (edge → owner the same, for a streamed request body). */
  Head: 17,
  Body: 18,
  End: 19,
  Error: 20,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];

const HEADER_BYTES = 9;
/** No frame is larger: bodies are split into chunks well below it. */
export const MAX_FRAME_BYTES = 8 * 1024 * 1024;
/** Largest body chunk one Body frame carries. */
export const MAX_CHUNK_BYTES = 1024 * 1024;

export interface Frame {
  readonly type: number;
  readonly stream: number;
  readonly payload: Buffer;
}

/** One frame's bytes: the header, then the payload parts as given (no copy of them). */
export function encodeFrame(type: FrameType, stream: number, ...parts: Uint8Array[]): Uint8Array[] {
  let length = HEADER_BYTES - 4;
  for (const part of parts) length += part.byteLength;
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt32BE(length, 0);
  header[4] = type;
  header.writeUInt32BE(stream, 5);
  return [header, ...parts];
}

/** A frame whose payload is `meta` as JSON, then `body`. */
export function encodeMetaFrame(type: FrameType, stream: number, meta: unknown, body?: Uint8Array): Uint8Array[] {
  const json = Buffer.from(JSON.stringify(meta));
  const length = Buffer.allocUnsafe(4);
  length.writeUInt32BE(json.length, 0);
  return body === undefined || body.byteLength === 0 ? encodeFrame(type, stream, length, json) : encodeFrame(type, stream, length, json, body);
}

/** Splits a meta frame's payload back into its JSON and its body. */
export function decodeMeta<T>(payload: Buffer): { meta: T; body: Buffer } {
  const length = payload.readUInt32BE(0);
  const meta = JSON.parse(payload.toString("utf8", 4, 4 + length)) as T;
  return { meta, body: payload.subarray(4 + length) };
}

export class LinkProtocolError extends Error {}

/** Cuts a byte stream into frames, whatever the chunking; copies only frames split across reads. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  /** Feeds bytes; returns the frames they complete, in order. */
  push(chunk: Buffer): Frame[] {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const frames: Frame[] = [];
    while (this.buffered >= 4) {
      const length = this.peekLength();
      if (length < HEADER_BYTES - 4 || length > MAX_FRAME_BYTES) throw new LinkProtocolError(`peer link frame of ${length} bytes`);
      if (this.buffered < 4 + length) break;
      const bytes = this.take(4 + length);
      frames.push({ type: bytes[4]!, stream: bytes.readUInt32BE(5), payload: bytes.subarray(HEADER_BYTES) });
    }
    return frames;
  }

  private peekLength(): number {
    if (this.chunks[0]!.length < 4) {
      // Join only the leading chunks that hold the length: concatenating the whole list on every
      // push made a frame arriving in tiny chunks cost time quadratic in its size.
      let count = 0;
      let bytes = 0;
      while (bytes < 4) bytes += this.chunks[count++]!.length;
      this.chunks.splice(0, count, Buffer.concat(this.chunks.slice(0, count), bytes));
    }
    return this.chunks[0]!.readUInt32BE(0);
  }

  /** The next `count` bytes: a view of the first chunk when it holds them all. */
  private take(count: number): Buffer {
    this.buffered -= count;
    const first = this.chunks[0]!;
    if (first.length >= count) {
      if (first.length === count) this.chunks.shift();
      else this.chunks[0] = first.subarray(count);
      return first.subarray(0, count);
    }
    const joined = Buffer.concat(this.chunks);
    this.chunks = joined.length > count ? [joined.subarray(count)] : [];
    return joined.subarray(0, count);
  }
}
