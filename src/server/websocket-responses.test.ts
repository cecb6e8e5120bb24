/**
 * 101 Responses that carry a WebSocket, returned by user code: the sharding pattern
 * (stub.fetch() of the client's upgrade from onBeforeConnect / onFetch) and WebSocketPair ends.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type * as Party from "../types/party.js";
import { WebSocketPair } from "../globals/local-websocket.js";
import { createUpgradeResponse } from "../runtime/websocket-response.js";
import { startTestServer, type TestServer } from "../testing/index.js";

/** What a bundle's `new Response(null, { status: 101, webSocket })` gives. */
const upgradeResponse = (webSocket: unknown) => createUpgradeResponse(null, { status: 101, webSocket });

class Router {
  static async onBeforeConnect(request: Party.Request, lobby: Party.Lobby): Promise<Response | Party.Request> {
    const url = new URL(request.url);
    if (url.searchParams.has("reject")) {
      const pair = new WebSocketPair();
      pair[1].accept();
      pair[1].close(4001, "not today");
      return upgradeResponse(pair[0]);
    }
    return lobby.parties.shard!.get(`shard-${lobby.id}`).fetch(request);
  }

  static async onFetch(request: Party.Request, lobby: Party.FetchLobby): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/status-of-upgrade") {
      const response = await lobby.parties.shard!.get("peek").fetch({ headers: { upgrade: "websocket" } });
      return new Response(String(response.status));
    }
    if (url.pathname === "/pair-to-http") return upgradeResponse(new WebSocketPair()[0]);
    if (url.pathname.startsWith("/echo")) {
      const pair = new WebSocketPair();
      const server = pair[1];
      server.accept();
      server.send("welcome");
      server.addEventListener("message", (event) => {
        const data = (event as MessageEvent).data as string;
        if (data === "bye") server.close(4000, "bye to you");
        else server.send(`echo:${data}`);
      });
      server.addEventListener("close", (event) => closes.push((event as CloseEvent).code));
      return upgradeResponse(pair[0]);
    }
    return lobby.parties.shard!.get(url.pathname.slice(1)).fetch(request);
  }

  onConnect(connection: Party.Connection): void {
    connection.send("router room: should never be reached by a sharded client");
  }
}
const closes: number[] = [];

class Shard {
  static options = { hibernate: true };
  constructor(readonly room: Party.Room) {}
  onConnect(connection: Party.Connection, ctx: Party.ConnectionContext): void {
    connection.send(`joined ${this.room.name}/${this.room.id} via ${new URL(ctx.request.url).pathname}`);
  }
  onMessage(message: string, sender: Party.Connection): void {
    this.room.broadcast(`${this.room.id}: ${message}`, [sender.id]);
  }
}

describe("WebSocket responses returned by user code", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ parties: { main: Router, shard: Shard }, memory: true });
  });
  after(() => server.close());

  it("a router's onBeforeConnect returning stub.fetch(request) connects the client to the shard room", async () => {
    const a = await server.connect("/parties/main/lobby-1?_pk=a");
    const b = await server.connect("/parties/main/lobby-1?_pk=b");
    assert.equal(await a.nextText(), "joined shard/shard-lobby-1 via /parties/shard/shard-lobby-1");
    assert.equal(await b.nextText(), "joined shard/shard-lobby-1 via /parties/shard/shard-lobby-1");
    a.send("hello");
    assert.equal(await b.nextText(), "shard-lobby-1: hello");
    assert.equal(server.server.stats().sockets, 2, "two sockets, both in the shard room");
  });

  it("stub.fetch() of an upgrade answers 101", async () => {
    assert.equal(await (await server.fetch("/status-of-upgrade")).text(), "101");
  });

  it("onFetch can forward a non-room upgrade to a room the same way", async () => {
    const socket = await server.connect("/shard-from-fetch");
    assert.equal(await socket.nextText(), "joined shard/shard-from-fetch via /parties/shard/shard-from-fetch");
  });

  it("an accepted and closed WebSocketPair end reaches the client as a handshake and that close", async () => {
    const socket = await server.connect("/parties/main/lobby-2?reject=1");
    assert.deepEqual(await socket.closed, { code: 4001, reason: "not today" });
  });

  it("a WebSocketPair end served from onFetch talks to the client in both directions", async () => {
    const socket = await server.connect("/echo");
    assert.equal(await socket.nextText(), "welcome");
    socket.send("ping");
    assert.equal(await socket.nextText(), "echo:ping");
    socket.send("bye");
    assert.deepEqual(await socket.closed, { code: 4000, reason: "bye to you" });
    // The server end hears the close once the client's answer arrives.
    for (let i = 0; i < 100 && closes.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(closes, [4000]);
  });

  it("a 101 Response to a plain HTTP request is a 500", async () => {
    const response = await server.fetch("/pair-to-http");
    assert.equal(response.status, 500);
    assert.match(await response.text(), /not a WebSocket upgrade/);
  });
});
