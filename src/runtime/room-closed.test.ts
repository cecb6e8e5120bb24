import assert from "node:assert/strict";
import { test } from "node:test";
import WebSocket from "ws";
import type * as Party from "../types/party.js";
import type { Logger } from "./logger.js";
import { startTestServer } from "../testing/index.js";

let built = 0;
let started = 0;
let messages = 0;

class Writer implements Party.Server {
  static options = { hibernate: true };
  constructor(readonly room: Party.Room) {
    built++;
  }
  onStart() {
    started++;
  }
  async onMessage(message: string | ArrayBuffer) {
    messages++;
    // A read first: events caught between their read and their write when the server stops
    // must still be able to write (the room waits for events it already started).
    await this.room.storage.get(`r${messages}`);
    await this.room.storage.put(`m${messages}`, String(message));
  }
}

test("frames that arrive while the server closes sockets reach no user code and rebuild nothing; started events finish", async () => {
  const errors: string[] = [];
  const logger: Logger = { log: (level, event, fields) => void (level === "error" && errors.push(`${event} ${JSON.stringify(fields)}`)) };
  const server = await startTestServer({ parties: Writer, logger });
  built = started = messages = 0;
  const sockets: WebSocket[] = [];
  for (let i = 0; i < 20; i++) {
    const ws = new WebSocket(`${server.url.replace("http", "ws")}/parties/main/room?_pk=c${i}`);
    await new Promise((resolve) => ws.once("open", resolve));
    sockets.push(ws);
  }
  // Every client keeps sending while the server stops.
  const timers = sockets.map((ws) => setInterval(() => ws.readyState === WebSocket.OPEN && ws.send("x".repeat(100)), 1));
  await new Promise((resolve) => setTimeout(resolve, 100));
  const codes = sockets.map((ws) => new Promise<number>((resolve) => ws.once("close", resolve)));
  await server.close();
  for (const timer of timers) clearInterval(timer);
  assert.deepEqual(new Set(await Promise.all(codes)), new Set([1012]));
  assert.equal(built, 1, "the instance was built once");
  assert.equal(started, 1, "onStart ran once");
  assert.deepEqual(errors, []);
});

let releaseHeld: (() => void) | null = null;
let heldWrote = false;

class Holder implements Party.Server {
  constructor(readonly room: Party.Room) {}
  async onMessage() {
    await new Promise<void>((resolve) => (releaseHeld = resolve));
    await this.room.storage.put("after-stop", "written");
    heldWrote = true;
  }
}

test("an event running when the server stops may still use storage until it settles", async () => {
  const errors: string[] = [];
  const logger: Logger = { log: (level, event, fields) => void (level === "error" && errors.push(`${event} ${JSON.stringify(fields)}`)) };
  const server = await startTestServer({ parties: Holder, logger });
  const ws = new WebSocket(`${server.url.replace("http", "ws")}/parties/main/held`);
  await new Promise((resolve) => ws.once("open", resolve));
  ws.send("go");
  while (releaseHeld === null) await new Promise((resolve) => setTimeout(resolve, 5));
  const closing = server.close();
  setTimeout(() => releaseHeld!(), 100);
  await closing;
  assert.equal(heldWrote, true);
  assert.deepEqual(errors, []);
});
