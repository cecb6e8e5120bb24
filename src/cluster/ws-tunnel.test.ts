import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createServer as createHttpServer, type Server } from "node:http";
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import type * as Party from "../types/party.js";
import { openTunnel, WebSocketTunnel } from "./ws-tunnel.js";

/**
 * Real sockets on 127.0.0.1: a hand-written "owner" that answers the handshake and then writes
 * whatever frames a test gives it, an edge (node:http) that tunnels every upgrade to it, and a
 * `ws` client on the edge.
 */
interface Rig {
  edge: Server;
  edgePort: number;
  /** The owner's side of the newest tunnel, after its 101. */
  ownerSocket(): Promise<Socket>;
  /** The edge's client socket and tunnel of the newest connection. */
  tunnel(): Promise<{ tunnel: WebSocketTunnel; client: Socket }>;
  close(): void;
}

async function startRig(): Promise<Rig> {
  const ownerSockets: Array<(socket: Socket) => void> = [];
  const owner = createNetServer((socket) => {
    socket.once("data", (request) => {
      const key = /sec-websocket-key: *(\S+)/i.exec(request.toString("latin1"))![1]!;
      const accept = createHash("sha1").update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest("base64");
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      ownerSockets.shift()?.(socket);
    });
  });
  await new Promise<void>((resolve) => owner.listen(0, "127.0.0.1", resolve));
  const ownerPort = (owner.address() as AddressInfo).port;

  const tunnels: Array<(entry: { tunnel: WebSocketTunnel; client: Socket }) => void> = [];
  const edge = createHttpServer();
  edge.on("upgrade", async (req, socket: Socket, head: Buffer) => {
    const request = new Request(`http://127.0.0.1${req.url}`, { headers: { "x-test": "1" } }) as Party.Request;
    // A TCP connection stands in for the peer link's virtual connection.
    const opened = await openTunnel(connect(ownerPort, "127.0.0.1"), req.url ?? "/", request, req, "secret");
    assert.equal(opened.kind, "open");
    if (opened.kind !== "open") return;
    const tunnel = new WebSocketTunnel(socket, opened.upstream, opened, head, () => {});
    tunnels.shift()?.({ tunnel, client: socket });
  });
  await new Promise<void>((resolve) => edge.listen(0, "127.0.0.1", resolve));
  return {
    edge,
    edgePort: (edge.address() as AddressInfo).port,
    ownerSocket: () => new Promise((resolve) => ownerSockets.push(resolve)),
    tunnel: () => new Promise((resolve) => tunnels.push(resolve)),
    close() {
      edge.closeAllConnections();
      edge.close();
      owner.close();
    },
  };
}

/** One unmasked binary frame (server to client) of `size` bytes. */
function binaryFrame(size: number, fill = 7): Buffer {
  const lengthBytes = size < 126 ? 0 : size < 65_536 ? 2 : 8;
  const header = Buffer.alloc(2 + lengthBytes);
  header[0] = 0x82;
  header[1] = lengthBytes === 0 ? size : lengthBytes === 2 ? 126 : 127;
  if (lengthBytes === 2) header.writeUInt16BE(size, 2);
  if (lengthBytes === 8) header.writeBigUInt64BE(BigInt(size), 2);
  return Buffer.concat([header, Buffer.alloc(size, fill)]);
}

async function connectClient(rig: Rig) {
  const ownerSocket = rig.ownerSocket();
  const tunnel = rig.tunnel();
  const ws = new WebSocket(`ws://127.0.0.1:${rig.edgePort}/parties/main/room`);
  await new Promise((resolve, reject) => {
    ws.once("open", resolve);
    ws.once("error", reject);
  });
  return { ws, owner: await ownerSocket, ...(await tunnel) };
}

describe("WebSocketTunnel", () => {
  let rig: Rig;
  before(async () => {
    rig = await startRig();
  });
  after(() => rig.close());

  it("relays the owner's frames and the client's, byte for byte", async () => {
    const { ws, owner } = await connectClient(rig);
    const fromClient = new Promise<Buffer>((resolve) => owner.once("data", resolve));
    ws.send("hi");
    const masked = await fromClient;
    assert.equal(masked[0], 0x81, "a text frame, as the client wrote it");
    const message = new Promise<Buffer>((resolve) => ws.once("message", (data) => resolve(data as Buffer)));
    owner.write(binaryFrame(70_000, 3));
    const received = await message;
    assert.equal(received.length, 70_000);
    assert.ok(received.every((byte) => byte === 3));
    ws.terminate();
  });

  it("on drain, finishes the frame in flight, then closes the client with 1012", async () => {
    const { ws, owner, tunnel } = await connectClient(rig);
    const frame = binaryFrame(100_000);
    const messages: number[] = [];
    ws.on("message", (data) => messages.push((data as Buffer).length));
    const closed = new Promise<[number, string]>((resolve) => ws.once("close", (code, reason) => resolve([code, reason.toString()])));
    const ownerGone = new Promise((resolve) => owner.once("close", resolve));
    owner.write(frame.subarray(0, 50_000));
    await new Promise((resolve) => setTimeout(resolve, 50)); // the first half reaches the edge
    tunnel.shutdown(1012, "node draining");
    owner.write(frame.subarray(50_000));
    assert.deepEqual(await closed, [1012, "node draining"]);
    assert.deepEqual(messages, [100_000], "the whole frame, then the close");
    await ownerGone;
  });

  it("stops reading the owner while the client does not read (TCP backpressure)", async () => {
    const { ws, owner, client } = await connectClient(rig);
    ws.pause();
    const payload = 64 * 1024;
    const frame = binaryFrame(payload);
    const limit = 48 * 1024 * 1024; // far beyond what the kernel's socket buffers hold
    let frames = 0;
    // The owner writes whenever its socket drains, as a room's socket would, up to `limit`.
    const pump = () => {
      while (frames * payload < limit) {
        frames++;
        if (!owner.write(frame)) return;
      }
    };
    owner.on("drain", pump);
    pump();
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.ok(frames * payload < limit, "the owner was stopped by TCP backpressure");
    assert.ok(client.writableLength <= 256 * 1024, `edge buffers ${client.writableLength} bytes toward a client that does not read`);
    let received = 0;
    const total = limit;
    const all = new Promise<void>((resolve) =>
      ws.on("message", (data) => {
        received += (data as Buffer).length;
        if (received >= total) resolve();
      }),
    );
    ws.resume();
    await all;
    assert.equal(received, total, "nothing lost once the client reads again");
    ws.terminate();
  });

  it("ends the client when the owner goes away", async () => {
    const { ws, owner } = await connectClient(rig);
    const closed = new Promise<number>((resolve) => ws.once("close", (code) => resolve(code)));
    owner.destroy();
    assert.equal(await closed, 1006);
  });
});
