import assert from "node:assert/strict";
import { test } from "node:test";
import WebSocket from "ws";
import type * as Party from "../types/party.js";
import { startTestServer } from "../testing/index.js";
import { MAX_PENDING, SHARE_BYTES, waitingInbound } from "./inbound-flow.js";

let seen: string[] = [];
let countAtClose = -1;
/** Event-loop turns, counted by a setImmediate chain while a test runs. */
let turn = 0;
let ticking = false;
const perTurn = new Map<number, number>();
function tick(): void {
  turn++;
  if (ticking) setImmediate(tick);
}

class Counter implements Party.Server {
  constructor(readonly room: Party.Room) {}
  onMessage(message: string | ArrayBuffer) {
    seen.push(String(message));
    perTurn.set(turn, (perTurn.get(turn) ?? 0) + 1);
  }
  onClose() {
    countAtClose = seen.length;
  }
}

/** Sends `count` messages as fast as `ws` takes them, then resolves. */
async function flood(ws: WebSocket, count: number, text = (i: number) => String(i)): Promise<void> {
  for (let i = 0; i < count; i++) {
    ws.send(text(i));
    if (ws.bufferedAmount > 1024 * 1024) await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

test("a flood is delivered whole and in order, a share per turn, and the close comes after the last message", async () => {
  const server = await startTestServer({ parties: Counter, memory: true });
  ticking = true;
  tick();
  try {
    seen = [];
    countAtClose = -1;
    const ws = new WebSocket(`${server.url.replace("http", "ws")}/parties/main/r`);
    await new Promise((resolve) => ws.once("open", resolve));
    await flood(ws, 20_000);
    ws.close();
    const deadline = Date.now() + 10_000;
    while (countAtClose < 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(countAtClose, 20_000);
    assert.deepEqual(seen, Array.from({ length: 20_000 }, (_, i) => String(i)));
    assert.deepEqual(waitingInbound(), { sockets: 0, deliveries: 0 });
    // One socket gets SHARE_BYTES per turn (~100 of these messages), never a whole 64 KiB read.
    const most = Math.max(...perTurn.values());
    assert.ok(most <= SHARE_BYTES / 64 + 1, `${most} messages from one socket in one turn`);
  } finally {
    ticking = false;
    await server.close();
  }
});

class SlowReader implements Party.Server {
  constructor(readonly room: Party.Room) {}
  async onMessage(message: string | ArrayBuffer) {
    // An uncached read closes the input gate: later messages wait at it.
    await this.room.storage.get(`k ${String(message)}`);
    await this.room.storage.put("last", String(message));
  }
  onRequest() {
    return new Response("ok");
  }
}

test("a room that falls behind stops reading its sockets: its queue stays bounded, other rooms stay responsive", async () => {
  const server = await startTestServer({ parties: SlowReader });
  try {
    const ws = new WebSocket(`${server.url.replace("http", "ws")}/parties/main/flooded`);
    await new Promise((resolve) => ws.once("open", resolve));
    let maxPending = 0;
    let maxQueued = 0;
    let slowest = 0;
    let done = false;
    const sampler = (async () => {
      while (!done) {
        maxPending = Math.max(maxPending, server.server.stats().pendingEvents);
        maxQueued = Math.max(maxQueued, waitingInbound().deliveries);
        const started = Date.now();
        await (await server.fetch("/parties/main/other")).text();
        slowest = Math.max(slowest, Date.now() - started);
      }
    })();
    await flood(ws, 30_000, (i) => `message ${i}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    done = true;
    await sampler;
    ws.terminate();
    // One 64 KiB read of ~16-byte messages is ~4,000 messages: that may land at once; more may not.
    assert.ok(maxPending <= MAX_PENDING + 5_000, `pending at the gate: ${maxPending}`);
    assert.ok(maxQueued <= 10_000, `queued in front of the room: ${maxQueued}`);
    assert.ok(slowest < 5_000, `slowest request to another room: ${slowest} ms`);
  } finally {
    await server.close();
  }
});
