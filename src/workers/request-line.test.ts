/**
 * readRequestLine on real sockets: the line is found across chunk boundaries, every byte read
 * is returned (and nothing more is read afterwards, so a hand-off loses nothing), overlong or
 * silent clients are dropped.
 */
import { strict as assert } from "node:assert";
import { connect, createServer, type Server, type Socket } from "node:net";
import { after, test } from "node:test";
import { LISTEN_OPTIONS, readRequestLine, type RequestLine } from "./request-line.js";

const servers: Server[] = [];
const accepted: Socket[] = [];
after(() => {
  // A socket left paused never sees its end: close the accepted ones, then the listeners.
  for (const socket of accepted) socket.destroy();
  for (const server of servers) server.close();
});

/** A listener like the supervisor's; each accepted socket goes to `onSocket`. */
async function listener(onSocket: (socket: Socket) => void): Promise<number> {
  const server = createServer(LISTEN_OPTIONS, (socket) => {
    accepted.push(socket);
    onSocket(socket);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return (server.address() as { port: number }).port;
}

function client(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1", () => resolve(socket));
  });
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test("finds the request line across chunks and returns every byte read", async () => {
  let found!: (value: Promise<RequestLine | undefined>) => void;
  const result = new Promise<Promise<RequestLine | undefined>>((resolve) => (found = resolve));
  const port = await listener((socket) => found(readRequestLine(socket)));
  const socket = await client(port);
  socket.write("GET /parties/ma");
  await delay(30);
  socket.write("in/room-1?x=1 HTTP/1.1\r\nhost: a\r\n");
  const line = await (await result);
  assert.ok(line);
  assert.equal(line.target, "/parties/main/room-1?x=1");
  assert.equal(line.bytes.toString("latin1"), "GET /parties/main/room-1?x=1 HTTP/1.1\r\nhost: a\r\n");
  socket.destroy();
});

test("stops reading once the line is in: later bytes stay in the socket for whoever takes it over", async () => {
  let serverSide!: Socket;
  let found!: (value: Promise<RequestLine | undefined>) => void;
  const result = new Promise<Promise<RequestLine | undefined>>((resolve) => (found = resolve));
  const port = await listener((socket) => {
    serverSide = socket;
    found(readRequestLine(socket));
  });
  const socket = await client(port);
  socket.write("POST /parties/main/r HTTP/1.1\r\ncontent-length: 300000\r\n\r\n");
  const line = await (await result);
  assert.ok(line);
  const readBefore = serverSide.bytesRead;
  // A large body after the line: none of it may be read here now.
  socket.write(Buffer.alloc(300_000, 120));
  await delay(200);
  assert.equal(serverSide.bytesRead, readBefore, "nothing was read after the line");
  // Whoever reads next gets the whole body (after the chunk put back, which a hand-off skips:
  // its bytes travel in the message).
  const chunks: Buffer[] = [];
  serverSide.on("data", (chunk: Buffer) => chunks.push(chunk));
  serverSide.resume();
  await delay(300);
  assert.equal(serverSide.bytesRead - readBefore, 300_000);
  const body = Buffer.concat(chunks).subarray(-300_000);
  assert.ok(body.every((byte) => byte === 120));
  socket.destroy();
});

test("an overlong line is answered 431, a silent client is dropped", async () => {
  const port = await listener((socket) => void readRequestLine(socket, { maxBytes: 64, timeoutMs: 300 }));
  const long = await client(port);
  const answer = new Promise<string>((resolve) => {
    let text = "";
    long.on("data", (chunk: Buffer) => (text += chunk.toString()));
    long.on("close", () => resolve(text));
  });
  long.write(`GET /${"x".repeat(100)}`);
  assert.match(await answer, /^HTTP\/1.1 431 /);
  const silent = await client(port);
  const began = Date.now();
  await new Promise((resolve) => silent.on("close", resolve));
  assert.ok(Date.now() - began >= 250, "dropped after its timeout");
});
