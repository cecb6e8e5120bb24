/**
 * Awareness relay at the wire level: a provider that reconnects before its old socket closed
 * keeps its cursor, and a leaver's cursor is removed with a clock the others accept.
 */
import assert from "node:assert/strict";
import { afterEach, it } from "node:test";
import { startTestServer, type TestServer, type TestSocket } from "../../src/testing/index.js";
import { decodeAwarenessUpdate, encodeAwarenessUpdate, type AwarenessEntry } from "../../src/yjs/awareness-store.js";
import { YServer } from "../../src/yjs/index.js";
import { MESSAGE_AWARENESS, awarenessMessage } from "../../src/yjs/protocol.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function cursor(clientId: number, clock: number): Uint8Array {
  return awarenessMessage(encodeAwarenessUpdate([{ clientId, clock, state: JSON.stringify({ cursor: clock }) }]));
}

/** Awareness entries the socket receives within `ms` (other messages skipped). */
async function awarenessWithin(socket: TestSocket, ms: number): Promise<AwarenessEntry[]> {
  const entries: AwarenessEntry[] = [];
  const deadline = Date.now() + ms;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) return entries;
    let message: string | ArrayBuffer;
    try {
      message = await socket.next(left);
    } catch {
      return entries;
    }
    if (typeof message === "string") continue;
    const bytes = new Uint8Array(message);
    if (bytes[0] !== MESSAGE_AWARENESS) continue;
    // [type, varuint length, update]: lengths here are under 128, so one byte.
    entries.push(...decodeAwarenessUpdate(bytes.subarray(2)));
  }
}

it("keeps the cursor of a client that reconnected before its old socket closed; removes a real leaver's", async () => {
  const s = (server = await startTestServer({ parties: YServer, memory: true }));
  const watcher = await s.connect("/parties/main/aw");
  const old = await s.connect("/parties/main/aw");
  old.send(cursor(7, 1));
  // A newcomer's first state waits for the awareness batch (1 s by default).
  assert.ok((await awarenessWithin(watcher, 1500)).some((e) => e.clientId === 7 && e.clock === 1));

  const fresh = await s.connect("/parties/main/aw");
  fresh.send(cursor(7, 2)); // the same client id, now on the new socket
  assert.ok((await awarenessWithin(watcher, 1500)).some((e) => e.clientId === 7 && e.clock === 2));
  await old.close();
  const afterOldClosed = await awarenessWithin(watcher, 300);
  assert.ok(!afterOldClosed.some((e) => e.clientId === 7 && e.state === "null"), "the reconnected client's cursor stays");

  await fresh.close();
  const afterLeft = await awarenessWithin(watcher, 1000);
  assert.deepEqual(afterLeft.filter((e) => e.clientId === 7), [{ clientId: 7, clock: 3, state: "null" }], "the leaver is removed, one clock past its last");
});

it("a fresh instance (after hibernation) removes a leaver's cursor from its connection state", async () => {
  const s = (server = await startTestServer({ parties: YServer, memory: true, hibernateAfterMs: 100 }));
  const watcher = await s.connect("/parties/main/aw2");
  const leaver = await s.connect("/parties/main/aw2");
  leaver.send(cursor(9, 4));
  assert.ok((await awarenessWithin(watcher, 1500)).some((e) => e.clientId === 9 && e.clock === 4));
  const deadline = Date.now() + 5000;
  while (s.server.stats().resident !== 0) {
    if (Date.now() > deadline) throw new Error("the room did not hibernate");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  leaver.terminate(); // no goodbye from the client: only the server knows who left
  const afterLeft = await awarenessWithin(watcher, 2000);
  assert.deepEqual(afterLeft.filter((e) => e.clientId === 9), [{ clientId: 9, clock: 5, state: "null" }]);
});
