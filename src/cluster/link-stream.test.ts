import assert from "node:assert/strict";
import { once } from "node:events";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { describe, it } from "node:test";
import { LINK_HIGH_WATER_BYTES, LinkConnection } from "./link-connection.js";
import { LinkStream } from "./link-stream.js";

/** Two ends of a link over real TCP on 127.0.0.1, and one virtual connection between them. */
async function streamPair(): Promise<{ left: LinkStream; right: LinkStream; leftSocket: Socket; close(): void }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const accepted = once(server, "connection") as Promise<[Socket]>;
  const leftSocket = connect((server.address() as AddressInfo).port, "127.0.0.1");
  const [rightSocket] = await accepted;
  const ends: { left?: LinkStream; right?: LinkStream } = {};
  const wire = (socket: Socket, side: "left" | "right") => {
    const connection: LinkConnection = new LinkConnection(
      socket,
      Buffer.alloc(0),
      (frame) => ends[side]?.received(frame.type, frame.payload),
      (error) => ends[side]?.linkLost(error),
    );
    ends[side] = new LinkStream(connection, 1, () => {});
    // close() breaks the link under both ends; tests that care listen themselves.
    ends[side].on("error", () => {});
  };
  wire(leftSocket, "left");
  wire(rightSocket, "right");
  return {
    left: ends.left!,
    right: ends.right!,
    leftSocket,
    close() {
      leftSocket.destroy();
      rightSocket.destroy();
      server.close();
    },
  };
}

async function readAll(stream: LinkStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe("LinkStream", () => {
  it("carries bytes both ways, with half-close", async () => {
    const pair = await streamPair();
    try {
      const leftGot = readAll(pair.left);
      const rightGot = readAll(pair.right);
      pair.left.end("hello from left");
      pair.right.write("hello ");
      pair.right.end("from right");
      assert.equal((await rightGot).toString(), "hello from left");
      assert.equal((await leftGot).toString(), "hello from right");
    } finally {
      pair.close();
    }
  });

  it("holds the writer while the reader does not read, and loses nothing", async () => {
    const pair = await streamPair();
    try {
      const total = 32 * 1024 * 1024;
      const chunk = Buffer.alloc(64 * 1024, 1);
      let written = 0;
      const pump = () => {
        while (written < total) {
          written += chunk.length;
          if (!pair.left.write(chunk)) return;
        }
        pair.left.end();
      };
      pair.left.on("drain", pump);
      pump();
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.ok(written < total / 2, `the writer got ${written} bytes out to a reader that reads nothing`);
      // The overshoot is what left before the pause arrived: at most the link's own high water.
      const bound = LINK_HIGH_WATER_BYTES + 1024 * 1024;
      assert.ok(pair.right.readableLength < bound, `${pair.right.readableLength} bytes wait on the reader`);
      assert.equal((await readAll(pair.right)).length, total);
    } finally {
      pair.close();
    }
  });

  it("an abort on one end closes the other", async () => {
    const pair = await streamPair();
    try {
      const closed = once(pair.right, "close");
      pair.left.destroy();
      await closed;
      assert.equal(pair.right.destroyed, true);
    } finally {
      pair.close();
    }
  });

  it("a broken link ends both ends with an error", async () => {
    const pair = await streamPair();
    try {
      // (events.once would reject on the 'error' that comes first.)
      const closed = [pair.left, pair.right].map((end) => new Promise((resolve) => end.on("close", resolve)));
      pair.leftSocket.destroy();
      await Promise.all(closed);
      assert.equal(pair.left.destroyed && pair.right.destroyed, true);
    } finally {
      pair.close();
    }
  });
});
