// Broadcasts to a whole room are batched until a burst of events settles (room-host.ts); these
// tests send several frames in ONE TCP write, so the server reads them in one chunk, and check
// that every socket still sees every message in the order it was made.
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { afterEach, describe, it } from "node:test";
import type * as Party from "../types/party.js";
import { startTestServer, type TestServer } from "../testing/index.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** b:… broadcasts to all, x:… to all but the sender, s:… goes back to the sender only. */
class Burst implements Party.Server {
  constructor(readonly room: Party.Room) {}
  onMessage(message: string | ArrayBuffer, sender: Party.Connection) {
    const text = String(message);
    if (text.startsWith("b:")) this.room.broadcast(text);
    else if (text.startsWith("x:")) this.room.broadcast(text, [sender.id]);
    else sender.send(text);
  }
}

/** A client frame: final, masked with a zero key (valid, and the payload stays as is). */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  assert.ok(payload.length < 126);
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
}

const text = (value: string) => clientFrame(0x1, Buffer.from(value));
const close = (code: number) => clientFrame(0x8, Buffer.from([code >> 8, code & 0xff]));

/** A WebSocket client on a raw TCP socket, so that several frames can leave in one write. */
class RawClient {
  private buffer = Buffer.alloc(0);
  /** Text messages as received, and "close:<code>" for a close frame. */
  readonly received: string[] = [];
  private wake: (() => void) | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.parse();
      this.wake?.();
    });
    socket.on("close", () => this.wake?.());
  }

  static open(port: number, path: string): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: "127.0.0.1", port });
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
      let head = Buffer.alloc(0);
      const onHead = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        socket.off("data", onHead);
        if (!head.subarray(0, 12).toString().includes("101")) return reject(new Error(head.toString()));
        const client = new RawClient(socket);
        client.buffer = head.subarray(end + 4);
        client.parse();
        resolve(client);
      };
      socket.on("data", onHead);
    });
  }

  write(...frames: Buffer[]): void {
    this.socket.write(Buffer.concat(frames));
  }

  /** Waits until `count` items were received (or the socket closed). */
  async receive(count: number): Promise<string[]> {
    while (this.received.length < count && !this.socket.destroyed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 5000);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.received.slice(0, count);
  }

  end(): void {
    this.socket.destroy();
  }

  private parse(): void {
    while (this.buffer.length >= 2) {
      const opcode = this.buffer[0]! & 0x0f;
      const length = this.buffer[1]! & 0x7f;
      assert.ok(length < 126, "the tests use short frames");
      if (this.buffer.length < 2 + length) return;
      const payload = this.buffer.subarray(2, 2 + length);
      this.buffer = this.buffer.subarray(2 + length);
      this.received.push(opcode === 0x8 ? `close:${payload.readUInt16BE(0)}` : payload.toString());
    }
  }
}

describe("batched broadcasts", () => {
  it("keep every socket's order when a burst mixes broadcasts, excluding broadcasts and sends", async () => {
    server = await startTestServer({ parties: Burst, memory: true });
    const other = await server.connect("/parties/main/burst?_pk=other");
    const sender = await RawClient.open(server.port, "/parties/main/burst?_pk=sender");
    // b:1 runs inside the read; the rest start one per turn and their broadcasts are batched.
    sender.write(text("b:1"), text("b:2"), text("b:3"), text("s:4"), text("b:5"), text("x:6"), text("b:7"), text("b:8"));
    assert.deepEqual(await sender.receive(7), ["b:1", "b:2", "b:3", "s:4", "b:5", "b:7", "b:8"]);
    const seen: string[] = [];
    for (let i = 0; i < 7; i++) seen.push(await other.nextText());
    assert.deepEqual(seen, ["b:1", "b:2", "b:3", "b:5", "x:6", "b:7", "b:8"]);
    sender.end();
  });

  it("write a message's broadcast to its sender before the close frame that followed it in the same read", async () => {
    server = await startTestServer({ parties: Burst, memory: true });
    const other = await server.connect("/parties/main/leaving?_pk=other");
    const sender = await RawClient.open(server.port, "/parties/main/leaving?_pk=sender");
    sender.write(text("b:bye"), close(1000));
    assert.deepEqual(await sender.receive(2), ["b:bye", "close:1000"]);
    assert.equal(await other.nextText(), "b:bye");
    sender.end();
  });
});
