import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { decodeMeta, encodeFrame, encodeMetaFrame, FrameReader, FrameType, LinkProtocolError, MAX_FRAME_BYTES } from "./link-frames.js";

describe("peer link frames", () => {
  const frames = [
    encodeMetaFrame(FrameType.Request, 1, { party: "main", room: "r", headers: ["a", "b"] }, Buffer.from("body one")),
    encodeFrame(FrameType.Pause, 2),
    encodeFrame(FrameType.Body, 3, Buffer.alloc(100_000, 9)),
    encodeMetaFrame(FrameType.Response, 4_000_000_000, { status: 204 }),
  ];
  const stream = Buffer.concat(frames.flat());

  it("reads back every frame, whatever the chunking", () => {
    for (const size of [1, 3, 4, 5, 9, 10, 4096, stream.length]) {
      const reader = new FrameReader();
      const read = [];
      for (let at = 0; at < stream.length; at += size) read.push(...reader.push(stream.subarray(at, at + size)));
      assert.deepEqual(
        read.map((f) => [f.type, f.stream, f.payload.length]),
        [
          [FrameType.Request, 1, read[0]!.payload.length],
          [FrameType.Pause, 2, 0],
          [FrameType.Body, 3, 100_000],
          [FrameType.Response, 4_000_000_000, read[3]!.payload.length],
        ],
        `chunks of ${size}`,
      );
      const request = decodeMeta<{ party: string; headers: string[] }>(read[0]!.payload);
      assert.deepEqual(request.meta, { party: "main", room: "r", headers: ["a", "b"] });
      assert.equal(request.body.toString(), "body one");
      assert.equal(decodeMeta(read[3]!.payload).body.length, 0);
      assert.ok(read[2]!.payload.every((b) => b === 9));
    }
  });

  it("refuses a frame longer than the limit before buffering it", () => {
    const header = Buffer.alloc(9);
    header.writeUInt32BE(MAX_FRAME_BYTES + 1, 0);
    assert.throws(() => new FrameReader().push(header), LinkProtocolError);
  });
});
