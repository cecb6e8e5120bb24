// Fills documents through the wire protocol, as an editor typing would: `updates` inserts of
// `chunk` characters each (every fifth one also deletes a little, so there is history), with a
// sync round trip every 50 updates so the server keeps up. Then the socket closes, which on
// y-partykit compacts the document into its snapshot and drops it from memory.
import WebSocket from "ws";
import * as Y from "yjs";
import { syncStep1Message, updateMessage } from "../../../src/yjs/protocol.js";
import { serveLoad } from "../ipc.js";

interface SeedParams {
  port: number;
  paths: string[];
  updates: number;
  chunk: number;
}

function open(url: string): Promise<{ ws: WebSocket; next: () => Promise<Uint8Array> }> {
  const ws = new WebSocket(url, { maxPayload: 256 * 1024 * 1024 });
  ws.binaryType = "nodebuffer";
  const queue: Uint8Array[] = [];
  const waiters: Array<(m: Uint8Array) => void> = [];
  ws.on("message", (data: Buffer, binary: boolean) => {
    if (!binary) return;
    const waiter = waiters.shift();
    if (waiter) waiter(data);
    else queue.push(data);
  });
  return new Promise((resolve, reject) => {
    ws.once("open", () =>
      resolve({ ws, next: () => (queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((r) => waiters.push(r))) }),
    );
    ws.once("error", reject);
  });
}

async function roundTrip(ws: WebSocket, next: () => Promise<Uint8Array>, doc: Y.Doc): Promise<void> {
  ws.send(syncStep1Message(doc));
  for (;;) {
    const message = await next();
    if (message[0] === 0 && message[1] === 1) return;
  }
}

async function seedOne(port: number, path: string, updates: number, chunk: number): Promise<number> {
  const { ws, next } = await open(`ws://127.0.0.1:${port}${path}`);
  const doc = new Y.Doc();
  const text = doc.getText("t");
  let bytes = 0;
  doc.on("update", (update: Uint8Array) => {
    ws.send(updateMessage(update));
    bytes += update.byteLength;
  });
  for (let i = 0; i < updates; i++) {
    const at = text.length === 0 ? 0 : (i * 7919) % text.length;
    text.insert(at, `${i} `.padEnd(chunk, "lorem ipsum dolor sit amet "));
    if (i % 5 === 4) text.delete(Math.max(0, at - 3), Math.min(3, text.length));
    if (i % 50 === 49) await roundTrip(ws, next, doc);
  }
  await roundTrip(ws, next, doc);
  ws.close();
  await new Promise((resolve) => ws.once("close", resolve));
  return Y.encodeStateAsUpdate(doc).byteLength;
}

serveLoad({
  async seed({ port, paths, updates, chunk }: SeedParams) {
    const sizes: number[] = [];
    for (const path of paths) sizes.push(await seedOne(port, path, updates, chunk));
    return sizes;
  },
});
