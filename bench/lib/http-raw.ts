// A minimal keep-alive HTTP/1.1 client on a raw net.Socket for load processes: one request in
// flight per connection, responses framed by Content-Length or chunked encoding. node:http's client
// costs more CPU per request than the servers it would be measuring.
import { connect, type Socket } from "node:net";

export type ResponseHandler = (status: number) => void;

const HEADER_END = Buffer.from("\r\n\r\n");
const CHUNKED_END = Buffer.from("0\r\n\r\n");

export class KeepAliveConnection {
  private socket: Socket | null = null;
  private buffer: Buffer = Buffer.alloc(0);
  private onResponse: ResponseHandler | null = null;
  /** Called when the connection fails with a request outstanding; the next get() reconnects. */
  onError: (error: Error) => void = () => {};

  constructor(
    private readonly host: string,
    private readonly port: number,
  ) {
    this.socket = this.open();
  }

  get busy(): boolean {
    return this.onResponse !== null;
  }

  /** Sends GET `path`; `done` gets the status once the whole response is in. */
  get(path: string, done: ResponseHandler): void {
    if (this.onResponse) throw new Error("one request at a time per connection");
    this.onResponse = done;
    // Servers close idle keep-alive connections (node:http after 5 s): reconnect on demand.
    this.socket ??= this.open();
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: ${this.host}:${this.port}\r\n\r\n`);
  }

  /** Drops the connection and any request on it, silently; the next get() reconnects. */
  reset(): void {
    this.onResponse = null;
    this.drop();
  }

  close(): void {
    this.reset();
  }

  private open(): Socket {
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    socket.on("data", (chunk: Buffer) => this.receive(chunk));
    socket.on("error", (error) => this.fail(socket, error));
    socket.on("close", () => this.fail(socket, new Error("connection closed")));
    return socket;
  }

  private drop(): void {
    this.socket?.removeAllListeners().on("error", () => {}).destroy();
    this.socket = null;
    this.buffer = Buffer.alloc(0);
  }

  private fail(socket: Socket, error: Error): void {
    if (socket !== this.socket) return;
    this.drop();
    const pending = this.onResponse;
    this.onResponse = null;
    if (pending) this.onError(error);
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    const headerEnd = this.buffer.indexOf(HEADER_END);
    if (headerEnd < 0) return;
    const head = this.buffer.subarray(0, headerEnd).toString("latin1");
    const bodyStart = headerEnd + 4;
    let end: number;
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (length) {
      end = bodyStart + Number(length[1]);
      if (this.buffer.length < end) return;
    } else if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
      const last = this.buffer.indexOf(CHUNKED_END, bodyStart);
      if (last < 0) return;
      end = last + CHUNKED_END.length;
    } else {
      end = bodyStart; // no body (e.g. 204) — the bench servers always send a length
    }
    const closing = /\r\nconnection:\s*close/i.test(head);
    this.buffer = this.buffer.length > end ? Buffer.from(this.buffer.subarray(end)) : Buffer.alloc(0);
    const status = Number(head.slice(9, 12));
    const done = this.onResponse;
    this.onResponse = null;
    if (closing) this.drop();
    done?.(status);
  }
}
