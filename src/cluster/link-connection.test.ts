import assert from "node:assert/strict";
import { Duplex } from "node:stream";
import { describe, it } from "node:test";
import { LinkConnection } from "./link-connection.js";
import { encodeFrame, FrameReader, FrameType } from "./link-frames.js";

/** A stand-in transport that records each write the stream machinery hands to it. */
class RecordingTransport extends Duplex {
  readonly writes: number[] = [];
  readonly bytes: Buffer[] = [];
  override _read(): void {}
  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.writes.push(1);
    this.bytes.push(chunk);
    done();
  }
  override _writev(chunks: Array<{ chunk: Buffer }>, done: () => void): void {
    this.writes.push(chunks.length);
    for (const { chunk } of chunks) this.bytes.push(chunk);
    done();
  }
}

describe("LinkConnection", () => {
  it("sends every frame queued in one event-loop turn as one write", async () => {
    const transport = new RecordingTransport();
    const connection = new LinkConnection(transport, Buffer.alloc(0), () => {}, () => {});
    for (let stream = 1; stream <= 200; stream++) connection.send(encodeFrame(FrameType.Body, stream, Buffer.from(`chunk ${stream}`)));
    assert.equal(transport.writes.length, 0, "nothing leaves before the turn ends");
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(transport.writes.length, 1, `writes: ${transport.writes.join(", ")}`);
    const frames = new FrameReader().push(Buffer.concat(transport.bytes));
    assert.deepEqual(
      frames.map((f) => [f.stream, f.payload.toString()]),
      Array.from({ length: 200 }, (_, i) => [i + 1, `chunk ${i + 1}`]),
    );
  });

  it("hands incoming frames over in order and reports the close", async () => {
    const transport = new RecordingTransport();
    const seen: number[] = [];
    const closed = new Promise<Error>((resolve) => new LinkConnection(transport, Buffer.concat(encodeFrame(FrameType.End, 7)), (frame) => seen.push(frame.stream), resolve));
    transport.push(Buffer.concat([...encodeFrame(FrameType.End, 8), ...encodeFrame(FrameType.End, 9)]));
    await new Promise((resolve) => setImmediate(resolve));
    transport.destroy();
    assert.match((await closed).message, /closed/);
    assert.deepEqual(seen, [7, 8, 9]);
  });
});
