// A minimal WebSocket client on a raw net.Socket for load processes. A full `ws` client costs about
// as much CPU per message as the server it measures; this one does the handshake, writes masked text
// frames from a zero mask (valid per RFC 6455 and free to apply) and parses unmasked server frames,
// answering pings. Enough for small text messages; no extensions, no fragmentation.
import { connect, type Socket } from "node:net";
import { randomBytes } from "node:crypto";

export type MessageHandler = (payload: Buffer, opcode: number) => void;

const OP_TEXT = 0x1;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

export class RawWebSocket {
  private pending: Buffer | null = null;
  onMessage: MessageHandler = () => {};
  onClose: () => void = () => {};
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("close", () => {
      this.closed = true;
      this.onClose();
    });
    socket.on("error", () => {});
  }

  /** Opens `ws://host:port<path>` and resolves after the server's 101. */
  static open(host: string, port: number, path: string, timeoutMs = 10_000): Promise<RawWebSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port, noDelay: true });
      const timer = setTimeout(() => fail(new Error(`handshake timeout for ${path}`)), timeoutMs);
      let head = Buffer.alloc(0);
      const fail = (error: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      };
      const onData = (chunk: Buffer) => {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        clearTimeout(timer);
        socket.off("data", onData);
        socket.off("error", fail);
        const status = head.subarray(0, head.indexOf("\r\n")).toString("latin1");
        if (!/^HTTP\/1\.1 101/.test(status)) return fail(new Error(`upgrade refused: ${status}`));
        const ws = new RawWebSocket(socket);
        const rest = head.subarray(end + 4);
        resolve(ws);
        if (rest.length > 0) ws.receive(rest);
      };
      socket.on("data", onData);
      socket.once("error", fail);
      socket.once("connect", () => {
        socket.write(
          `GET ${path} HTTP/1.1\r\nHost: ${host}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
    });
  }

  /** Sends a text frame (payload under 64 KiB). */
  sendText(text: string): void {
    this.socket.write(encodeFrame(OP_TEXT, Buffer.from(text)));
  }

  /** Sends an already encoded frame, e.g. one built once and reused. */
  sendFrame(frame: Buffer): void {
    this.socket.write(frame);
  }

  close(): void {
    if (this.closed) return;
    this.socket.end(encodeFrame(OP_CLOSE, Buffer.from([0x03, 0xe8])));
    this.socket.destroySoon();
  }

  private receive(chunk: Buffer): void {
    let data = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    let offset = 0;
    while (data.length - offset >= 2) {
      const opcode = data[offset] & 0x0f;
      let length = data[offset + 1] & 0x7f;
      let start = offset + 2;
      if (length === 126) {
        if (data.length - offset < 4) break;
        length = data.readUInt16BE(offset + 2);
        start = offset + 4;
      } else if (length === 127) {
        if (data.length - offset < 10) break;
        length = Number(data.readBigUInt64BE(offset + 2));
        start = offset + 10;
      }
      if (data.length < start + length) break;
      const payload = data.subarray(start, start + length);
      offset = start + length;
      if (opcode === OP_PING) this.socket.write(encodeFrame(OP_PONG, payload));
      else if (opcode === OP_CLOSE) this.socket.end();
      else this.onMessage(payload, opcode);
    }
    if (offset < data.length) this.pending = Buffer.from(data.subarray(offset));
  }
}

/** A client frame: FIN set, zero mask key (the payload stays as is). */
export function encodeFrame(opcode: number, payload: Buffer): Buffer {
  const length = payload.length;
  const headerLength = length < 126 ? 6 : 8;
  const frame = Buffer.alloc(headerLength + length);
  frame[0] = 0x80 | opcode;
  if (length < 126) {
    frame[1] = 0x80 | length;
  } else {
    frame[1] = 0x80 | 126;
    frame.writeUInt16BE(length, 2);
  }
  payload.copy(frame, headerLength);
  return frame;
}

export function textFrame(text: string): Buffer {
  return encodeFrame(OP_TEXT, Buffer.from(text));
}

/** Opens `count` sockets, at most `parallel` handshakes at a time. */
export async function openMany(
  host: string,
  port: number,
  pathFor: (i: number) => string,
  count: number,
  parallel = 100,
): Promise<RawWebSocket[]> {
  const sockets: RawWebSocket[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      sockets[i] = await RawWebSocket.open(host, port, pathFor(i));
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, count) }, worker));
  return sockets;
}
