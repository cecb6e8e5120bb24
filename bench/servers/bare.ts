// The floor: bench/party/server.ts's behaviour written by hand on node:http + ws, with nothing in
// between. Rooms are a Map of Sets keyed by the id in /parties/main/<room>; the first request or
// socket to an id creates its entry, as a room instance would be created. Broadcast is a plain
// ws.send() per socket. Run: node --expose-gc bare.js --port <p>
//
// With --tuned it is the hand-tuned broadcast floor instead (the "tuned" server of the bench):
// a broadcast is framed once by hand and the same bytes are written to each recipient's TCP
// socket, corked on its first write in a turn and uncorked once per turn (setImmediate), the
// design /work/shared/spec/performance-notes.md measured as the fastest pure-JS fan-out.
import { mkdtempSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { tmpdir } from "node:os";
import { join as joinPath } from "node:path";
import Database from "better-sqlite3";
import { WebSocketServer, type WebSocket, type RawData } from "ws";

const BODY = "hello from the bench party";
const ROOM_PATH = /^\/parties\/main\/([^/?#]+)(\/[^?#]*)?/;

const tuned = process.argv.includes("--tuned");
const rooms = new Map<string, Set<WebSocket>>();
/** --tuned: each socket's TCP stream, written to directly with pre-framed bytes. */
const streams = new WeakMap<WebSocket, Duplex>();

// The same SQLite settings partyhouse uses by default (WAL, synchronous=FULL, one database).
const db = new Database(joinPath(mkdtempSync(joinPath(tmpdir(), "bare-sqlite-")), "bare.sqlite3"));
db.pragma("journal_mode = WAL");
db.pragma("synchronous = FULL");
db.exec("CREATE TABLE IF NOT EXISTS kv (room TEXT NOT NULL, key TEXT NOT NULL, value BLOB, PRIMARY KEY (room, key)) WITHOUT ROWID");
const putValue = db.prepare("INSERT INTO kv (room, key, value) VALUES (?, 'value', ?) ON CONFLICT (room, key) DO UPDATE SET value = excluded.value");

function roomFor(id: string): Set<WebSocket> {
  let room = rooms.get(id);
  if (!room) {
    room = new Set();
    rooms.set(id, room);
  }
  return room;
}

function onRequest(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? "/";
  if (url.startsWith("/__bench/memory")) return memory(res);
  const match = ROOM_PATH.exec(url);
  if (!match) {
    res.writeHead(404).end("not found");
    return;
  }
  roomFor(match[1]);
  if (match[2] === "/put") {
    // The storage floor: one durable commit per request, by hand, before the answer.
    putValue.run(match[1], Buffer.from(String(url.length)));
    res.writeHead(200, { "content-type": "text/plain;charset=UTF-8" }).end("stored");
    return;
  }
  res.writeHead(200, { "content-type": "text/plain;charset=UTF-8" }).end(BODY);
}

function memory(res: ServerResponse): void {
  (globalThis as { gc?: () => void }).gc?.();
  const body = JSON.stringify({ gc: typeof globalThis.gc === "function", usage: process.memoryUsage() });
  res.writeHead(200, { "content-type": "application/json" }).end(body);
}

const server = createServer(onRequest);
const wss = new WebSocketServer({ noServer: true });

server.on("upgrade", (req, socket, head) => {
  const match = ROOM_PATH.exec(req.url ?? "/");
  if (!match) return void socket.destroy();
  wss.handleUpgrade(req, socket, head, (ws) => {
    if (tuned) streams.set(ws, socket);
    join(roomFor(match[1]), ws);
  });
});

function join(room: Set<WebSocket>, ws: WebSocket): void {
  room.add(ws);
  ws.on("message", (data: RawData, isBinary: boolean) => {
    if (!isBinary && startsWithBcast(data)) {
      if (tuned) broadcastFramed(room, textFrame(data as Buffer));
      else for (const peer of room) peer.send(data, { binary: false });
    } else {
      ws.send(data, { binary: isBinary });
    }
  });
  ws.on("close", () => room.delete(ws));
  ws.on("error", () => room.delete(ws));
}

const BCAST = Buffer.from("bcast:");
function startsWithBcast(data: RawData): boolean {
  return Buffer.isBuffer(data) && data.length >= BCAST.length && data.compare(BCAST, 0, BCAST.length, 0, BCAST.length) === 0;
}

/** An unmasked final text frame (RFC 6455 §5.2) holding `payload`, in one buffer. */
function textFrame(payload: Buffer): Buffer {
  const length = payload.length;
  const header = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = Buffer.allocUnsafe(header + length);
  frame[0] = 0x81;
  if (header === 2) frame[1] = length;
  else if (header === 4) {
    frame[1] = 126;
    frame.writeUInt16BE(length, 2);
  } else {
    frame[1] = 127;
    frame.writeBigUInt64BE(BigInt(length), 2);
  }
  payload.copy(frame, header);
  return frame;
}

const corked: Duplex[] = [];
function uncorkAll(): void {
  for (const stream of corked) stream.uncork();
  corked.length = 0;
}

function broadcastFramed(room: Set<WebSocket>, frame: Buffer): void {
  for (const peer of room) {
    const stream = streams.get(peer);
    if (stream === undefined || peer.readyState !== 1) continue;
    if (stream.writableCorked === 0) {
      stream.cork();
      if (corked.push(stream) === 1) setImmediate(uncorkAll);
    }
    stream.write(frame);
  }
}

const portArg = process.argv.indexOf("--port");
const port = portArg > 0 ? Number(process.argv[portArg + 1]) : 0;
server.listen(port, "127.0.0.1", () => {
  const address = server.address();
  console.log(`${tuned ? "tuned" : "bare"} listening on ${typeof address === "object" && address ? address.port : port}`);
});

// A clean exit on SIGTERM, so that a --cpu-prof profile gets written.
process.on("SIGTERM", () => process.exit(0));
