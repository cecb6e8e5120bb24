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
    await this.room.storage.put(`m${messages}`, String(message));
  }
}

test("frames that arrive while the server closes sockets reach no user code and rebuild nothing", async () => {
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
