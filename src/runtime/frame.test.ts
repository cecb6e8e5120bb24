import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { serverFrame } from "./frame.js";

/** The hand-written encoder partyhouse used before ws's Sender.frame: the reference bytes. */
function handWrittenFrame(payload: Buffer, binary: boolean): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(headerLength + length);
  frame[0] = 0x80 | (binary ? 0x2 : 0x1);
  if (length < 126) {
    frame[1] = length;
  } else if (length < 65536) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(0, 2);
    frame.writeUInt32BE(length, 6);
  }
  payload.copy(frame, headerLength);
  return frame;
}

describe("server frames", () => {
  // Each side of every payload-length boundary: 7-bit, 16-bit and 64-bit lengths.
  const lengths = [0, 1, 125, 126, 127, 65535, 65536, 70_000];

  for (const binary of [false, true]) {
    it(`are byte-identical to the hand-written encoder's (${binary ? "binary" : "text"})`, () => {
      for (const length of lengths) {
        const payload = Buffer.alloc(length, binary ? 0xa5 : "x");
        assert.deepEqual(serverFrame(payload, binary), handWrittenFrame(payload, binary), `${length} bytes`);
      }
    });
  }

  it("leave the payload as it was", () => {
    const payload = Buffer.from("héllo");
    serverFrame(payload, false);
    assert.equal(payload.toString(), "héllo");
  });
});
