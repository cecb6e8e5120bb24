/**
 * When a worker gives a kept-alive connection back to its supervisor: real HTTP server, real
 * sockets on 127.0.0.1, the connections handed in as a worker gets them. Only the decisions are
 * watched here (the owner records them); workers.test.ts runs the whole path across processes.
 */
import assert from "node:assert/strict";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from "node:net";
import { after, before, test } from "node:test";
import { HandedInConnections } from "../server/accept-connection.js";
import { IdleConnections, type ConnectionOwner } from "./idle-connections.js";

const PARK_AFTER_MS = 100;

class RecordingOwner implements ConnectionOwner {
  readonly parkedIds: number[] = [];
  readonly releasedIds: number[] = [];
  readonly parkedAt = new Map<number, number>();
  readonly letGoIds: number[] = [];
  readonly bouncedHeads = new Map<number, string>();
  parked(id: number, released: boolean): void {
    (released ? this.releasedIds : this.parkedIds).push(id);
    this.parkedAt.set(id, performance.now());
  }
  bounced(id: number, head: Buffer): void {
    this.bouncedHeads.set(id, head.toString("latin1"));
  }
  letGo(id: number): void {
    this.letGoIds.push(id);
  }
}

const owner = new RecordingOwner();
const idle = new IdleConnections(owner, PARK_AFTER_MS);
let nextId = 0;
/** The id each client's connection got, by the client's local port, and by its socket here. */
const idsByPort = new Map<number, number>();
const idsBySocket = new WeakMap<object, number>();
/** When the last answer on each connection was done, by id (as the server saw it). */
const answeredAt = new Map<number, number>();
let port = 0;
const http = createHttpServer(async (request: IncomingMessage, response: ServerResponse) => {
  const url = new URL(request.url ?? "/", "http://x");
  const wait = Number(url.searchParams.get("wait") ?? 0);
  // `early`: answered before the body is read (Node reads and drops the rest afterwards).
  if (!url.searchParams.has("early")) for await (const _ of request);
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  response.once("close", () => answeredAt.set(idsBySocket.get(request.socket)!, performance.now()));
  response.end(`answered ${request.url}`);
});
http.on("upgrade", (_request: IncomingMessage, socket: Socket) => {
  socket.end("HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n");
});
const handedIn = new HandedInConnections(http);
// Stands for the supervisor: accepts each connection and hands it in under an id.
const listener = createNetServer((socket) => {
  const id = nextId++;
  idsByPort.set(socket.remotePort!, id);
  idsBySocket.set(socket, id);
  handedIn.accept(socket, idle.watch(id, socket, 0));
});

before(async () => {
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  port = (listener.address() as AddressInfo).port;
});
after(() => {
  idle.close();
  listener.close();
  http.close();
});

/** A raw client: what it wrote and read, and its connection's id on the server side. */
async function client(): Promise<{ socket: Socket; id: () => number; received: () => string }> {
  const socket = connect(port, "127.0.0.1");
  await new Promise((resolve) => socket.once("connect", resolve));
  let text = "";
  socket.setEncoding("latin1");
  socket.on("data", (chunk: string) => (text += chunk));
  socket.on("error", () => {});
  const localPort = socket.localPort!;
  await until(() => idsByPort.has(localPort), 2_000, "the server took the connection");
  const id = idsByPort.get(localPort)!;
  return { socket, id: () => id, received: () => text };
}

async function until(condition: () => boolean, withinMs: number, what: string): Promise<void> {
  const deadline = performance.now() + withinMs;
  while (!condition()) {
    assert.ok(performance.now() < deadline, `not within ${withinMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const get = (path: string) => `GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`;
const answers = (text: string) => text.split("HTTP/1.1 200 OK").length - 1;

test("a kept-alive connection idle for the set time is parked, not before, and stops reading until resumed", async () => {
  const { socket, id, received } = await client();
  socket.write(get("/a"));
  await until(() => answers(received()) === 1, 2_000, "the answer");
  await until(() => owner.parkedIds.includes(id()), 2_000, "parked");
  const idleFor = owner.parkedAt.get(id())! - answeredAt.get(id())!;
  assert.ok(idleFor >= PARK_AFTER_MS, `parked ${idleFor} ms after its answer`);
  assert.ok(!owner.letGoIds.includes(id()), "a parked connection is not let go");
  // The supervisor reads the request line from its copy; the rest must stay unread here until
  // the resume brings the line (read here, it would be a request without a line: 400).
  socket.write("host: x\r\n\r\n");
  await sleep(PARK_AFTER_MS * 2);
  assert.equal(answers(received()), 1, `a parked connection was read: ${received()}`);
  idle.resume(id(), Buffer.from("GET /resumed HTTP/1.1\r\n", "latin1"));
  await until(() => answers(received()) === 2, 2_000, "the resumed request's answer");
  assert.match(received(), /answered \/resumed/);
  assert.doesNotMatch(received(), /400/);
  // Idle again: parked again, and given to another worker this time.
  await until(() => owner.parkedIds.filter((parked) => parked === id()).length === 2, 2_000, "parked again");
  idle.drop(id());
  await until(() => socket.destroyed || socket.readableEnded, 2_000, "the dropped copy closed (the only one in this test)");
  assert.ok(!owner.letGoIds.includes(id()), "a dropped connection is not let go");
});

test("a resume for a connection no longer here gives its bytes back; a draining worker releases idle connections", async () => {
  idle.resume(987_654, Buffer.from("GET /lost HTTP/1.1\r\n", "latin1"));
  assert.equal(owner.bouncedHeads.get(987_654), "GET /lost HTTP/1.1\r\n");
  const { socket, id, received } = await client();
  socket.write(get("/b"));
  await until(() => answers(received()) === 1, 2_000, "the answer");
  idle.releaseIdle();
  assert.ok(owner.releasedIds.includes(id()), "released at once, however briefly idle");
  await until(() => socket.destroyed || socket.readableEnded, 2_000, "the released copy closed");
});

test("a connection is not parked while a request is in flight, only once it has been idle long enough after", async () => {
  const { socket, id, received } = await client();
  socket.write(get(`/slow?wait=${PARK_AFTER_MS * 4}`));
  await sleep(PARK_AFTER_MS * 3);
  assert.ok(!owner.parkedIds.includes(id()), "parked while its request was being answered");
  await until(() => answers(received()) === 1, 2_000, "the answer");
  await until(() => owner.parkedIds.includes(id()), 2_000, "parked after the answer");
  socket.destroy();
});

test("a client that pipelines gets every answer here, in order; its connection parks once all are answered", async () => {
  const { socket, id, received } = await client();
  socket.write(get("/p1") + get("/p2") + get("/p3"));
  await until(() => answers(received()) === 3, 2_000, "three answers");
  assert.deepEqual([...received().matchAll(/answered (\/p\d)/g)].map((match) => match[1]), ["/p1", "/p2", "/p3"]);
  await until(() => owner.parkedIds.includes(id()), 2_000, "parked once nothing was left to read");
});

test("a pipelined request half read with the one before it keeps the connection until it is done", async () => {
  const { socket, id, received } = await client();
  // One write: the server reads the first request and half the second at once.
  socket.write(get("/whole") + "GET /half HT");
  await until(() => answers(received()) === 1, 2_000, "the first answer");
  await sleep(PARK_AFTER_MS * 4);
  assert.ok(!owner.parkedIds.includes(id()), "parked with half a request in the parser");
  socket.write("TP/1.1\r\nhost: x\r\n\r\n");
  await until(() => answers(received()) === 2, 2_000, "the second answer");
  assert.match(received(), /answered \/half/);
  await until(() => owner.parkedIds.includes(id()), 2_000, "parked once it was answered");
});

test("a connection whose requests are not counted (a chunked body) is never parked", async () => {
  const { socket, id, received } = await client();
  socket.write("POST /chunked HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  await until(() => answers(received()) === 1, 2_000, "the answer");
  await sleep(PARK_AFTER_MS * 4);
  assert.ok(!owner.parkedIds.includes(id()), "parked after a request of unknown size");
  socket.destroy();
});

test("a connection whose next request has begun to arrive is not parked, and that request is answered", async () => {
  const { socket, id, received } = await client();
  socket.write(get("/first"));
  await until(() => answers(received()) === 1, 2_000, "the first answer");
  // Half a request, before the set time is out: the server has read it, so it must stay here.
  socket.write("GET /second HT");
  await sleep(PARK_AFTER_MS * 4);
  assert.ok(!owner.parkedIds.includes(id()), "parked with half a request read");
  socket.write("TP/1.1\r\nhost: x\r\n\r\n");
  await until(() => answers(received()) === 2, 2_000, "the second answer");
  assert.match(received(), /answered \/second/);
  socket.destroy();
});

test("a request answered before its body arrived keeps the connection until the body is in", async () => {
  const { socket, id, received } = await client();
  socket.write("POST /early?early HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\n01234");
  await until(() => answers(received()) === 1, 2_000, "the early answer");
  await sleep(PARK_AFTER_MS * 4);
  assert.ok(!owner.parkedIds.includes(id()), "parked with half a body still to come");
  socket.write("56789" + get("/after"));
  await until(() => answers(received()) === 2, 2_000, "the next answer");
  assert.match(received(), /answered \/after/);
  await until(() => owner.parkedIds.includes(id()), 2_000, "parked once the body was in and answered");
});

test("a connection that becomes a WebSocket, or closes, is let go and never parked", async () => {
  const upgrading = await client();
  upgrading.socket.write("GET /ws HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n");
  await until(() => owner.letGoIds.includes(upgrading.id()), 2_000, "let go on upgrade");
  const closing = await client();
  closing.socket.write(get("/bye"));
  await until(() => answers(closing.received()) === 1, 2_000, "the answer");
  closing.socket.destroy();
  await until(() => owner.letGoIds.includes(closing.id()), 2_000, "let go on close");
  await sleep(PARK_AFTER_MS * 2);
  assert.ok(!owner.parkedIds.includes(upgrading.id()) && !owner.parkedIds.includes(closing.id()));
  assert.equal(owner.letGoIds.filter((id) => id === upgrading.id()).length, 1, "let go once");
});
