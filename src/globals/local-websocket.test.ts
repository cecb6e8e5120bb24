import assert from "node:assert/strict";
import { once } from "node:events";
import { test } from "node:test";
import { LocalWebSocket, WebSocketPair } from "./local-websocket.js";
import { createUpgradeResponse, isUpgradeResponse } from "../runtime/websocket-response.js";

type Message = Event & { data: string | ArrayBuffer };
type Close = Event & { code: number; reason: string };

test("the two ends of a pair deliver to each other once accepted, earlier messages first", async () => {
  const { 0: client, 1: server } = new WebSocketPair();
  server.accept();
  server.send("before the client accepted");
  client.accept();
  const received: unknown[] = [];
  client.addEventListener("message", (event) => received.push((event as Message).data));
  server.send(new Uint8Array([1, 2, 3]));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(received[0], "before the client accepted");
  assert.deepEqual(new Uint8Array(received[1] as ArrayBuffer), new Uint8Array([1, 2, 3]));
});

test("send before accept() and after close() throw as in workerd; close reaches both ends", async () => {
  const [client, server] = [...new WebSocketPair()] as [LocalWebSocket, LocalWebSocket];
  assert.throws(() => server.send("x"), /accept\(\)/);
  server.accept();
  client.accept();
  const closed = once(client, "close");
  let serverClose: Close | undefined;
  server.onclose = (event) => (serverClose = event as Close);
  server.close(4001, "why");
  const [event] = (await closed) as [Close];
  assert.equal(event.code, 4001);
  assert.equal(event.reason, "why");
  assert.equal(server.readyState, LocalWebSocket.CLOSED);
  assert.equal(serverClose?.code, 4001, "the closing end hears the answer");
  assert.throws(() => server.send("late"), /after close/);
  assert.throws(() => server.close(1006), /invalid close code/);
});

test("a 101 Response carries a pair end; workerd's rules are enforced", () => {
  const pair = new WebSocketPair();
  const response = createUpgradeResponse(null, { status: 101, webSocket: pair[0] });
  assert.ok(isUpgradeResponse(response));
  assert.ok(response instanceof Response);
  assert.equal(response.status, 101);
  assert.equal(response.ok, false);
  assert.equal(response.webSocket, pair[0]);
  assert.throws(() => createUpgradeResponse(null, { status: 200, webSocket: pair[0] }), /status code 101/);
  assert.throws(() => createUpgradeResponse(null, { status: 101, webSocket: {} }), /WebSocketPair/);
  pair[1].accept();
  assert.throws(() => createUpgradeResponse(null, { status: 101, webSocket: pair[1] }), /accepted/);
});
