import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createHash } from "node:crypto";
import { createServer, type AddressInfo } from "node:net";
import WebSocket from "ws";
import { FrameBoundary, serverCloseFrame } from "./frame-boundary.js";

/** Binary frames with 7-bit, 16-bit and 64-bit lengths, masked and not (RFC 6455 §5.2). */
function frames(masked: boolean): Buffer[] {
  const sizes = [0, 5, 125, 126, 300, 65_535, 65_536, 200_000];
  return sizes.map((size) => {
    const lengthBytes = size < 126 ? 0 : size < 65_536 ? 2 : 8;
    const header = Buffer.alloc(2 + lengthBytes + (masked ? 4 : 0));
    header[0] = 0x82;
    header[1] = (masked ? 0x80 : 0) | (lengthBytes === 0 ? size : lengthBytes === 2 ? 126 : 127);
    if (lengthBytes === 2) header.writeUInt16BE(size, 2);
    if (lengthBytes === 8) header.writeBigUInt64BE(BigInt(size), 2);
    if (masked) header.set([1, 2, 3, 4], 2 + lengthBytes);
    return Buffer.concat([header, Buffer.alloc(size, 7)]);
  });
}

describe("FrameBoundary", () => {
  for (const masked of [false, true]) {
    it(`finds every boundary of ${masked ? "masked" : "unmasked"} frames, whatever the chunking`, () => {
      const all = frames(masked);
      const stream = Buffer.concat(all);
      const ends = new Set<number>();
      let offset = 0;
      for (const frame of all) ends.add((offset += frame.length));
      for (const chunkSize of [1, 2, 3, 7, 13, 1000, stream.length]) {
        const boundary = new FrameBoundary();
        for (let at = 0; at < stream.length; at += chunkSize) {
          const chunk = stream.subarray(at, Math.min(stream.length, at + chunkSize));
          assert.equal(boundary.scan(chunk), chunk.length);
          const end = at + chunk.length;
          assert.equal(boundary.atBoundary, ends.has(end), `chunk ${chunkSize}, at byte ${end}`);
        }
      }
    });
  }

  it("stops at the first boundary when asked, and consumes nothing at one", () => {
    const [a, b] = [frames(false)[1]!, frames(false)[2]!];
    const boundary = new FrameBoundary();
    assert.equal(boundary.scan(Buffer.concat([a, b]), true), 0, "at a boundary already: nothing");
    // Mid-frame: the rest of the frame, then stop.
    boundary.scan(a.subarray(0, 3));
    assert.equal(boundary.atBoundary, false);
    assert.equal(boundary.scan(Buffer.concat([a.subarray(3), b]), true), a.length - 3);
    assert.equal(boundary.atBoundary, true);
    assert.equal(boundary.scan(b, true), 0);
  });

  it("writes a close frame that a WebSocket client reads as that code and reason", async () => {
    // A hand-written server: the 101, then nothing but our close frame.
    const server = createServer((socket) => {
      socket.once("data", (request) => {
        const key = /sec-websocket-key: *(\S+)/i.exec(request.toString("latin1"))![1]!;
        const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
        socket.end(serverCloseFrame(1012, "node draining"));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const ws = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}/`);
      const closed = await new Promise<[number, string]>((resolve, reject) => {
        ws.on("close", (code, reason) => resolve([code, reason.toString()]));
        ws.on("error", reject);
      });
      assert.deepEqual(closed, [1012, "node draining"]);
    } finally {
      server.close();
    }
  });
});
