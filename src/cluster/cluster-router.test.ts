import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import type * as Party from "../types/party.js";
import { startTestServer, TestSocket } from "../testing/index.js";
import { startTestCluster, type TestCluster } from "./test-cluster.js";

/** Every instance built, as "node:room", across all nodes of this process. */
const started: string[] = [];
/** onClose calls, as "node:room:connection". */
const closes: string[] = [];

class Room implements Party.Server {
  constructor(readonly room: Party.Room) {}
  get node(): string {
    return String(this.room.env.NODE);
  }
  onStart() {
    started.push(`${this.node}:${this.room.id}`);
  }
  async onRequest(req: Party.Request) {
    const url = new URL(req.url);
    if (url.pathname.endsWith("/cookies")) {
      const headers = new Headers({ "x-answer": "yes" });
      headers.append("set-cookie", "a=1; Path=/");
      headers.append("set-cookie", "b=2; Path=/");
      return new Response(`${req.method} ${await req.text()}`, { status: 201, headers });
    }
    if (url.pathname.endsWith("/stream")) {
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          for (let i = 0; i < 3; i++) {
            controller.enqueue(new TextEncoder().encode(`part${i};`));
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
          controller.close();
        },
      });
      return new Response(body);
    }
    const call = /\/call\/([^/]+)$/.exec(url.pathname);
    if (call) return this.room.context.parties.main!.get(call[1]!).fetch("/via-stub", { method: "POST", body: "from " + this.room.id });
    return Response.json({
      node: this.node,
      room: this.room.id,
      method: req.method,
      url: req.url,
      ip: req.headers.get("cf-connecting-ip"),
      forwardedFor: req.headers.get("x-forwarded-for"),
      hooked: req.headers.get("x-hooked"),
      secretSeen: [...req.headers.keys()].filter((k) => k.startsWith("x-partyhouse")),
      cf: req.cf ?? null,
      body: req.method === "GET" ? null : await req.text(),
    });
  }
  onConnect(connection: Party.Connection, ctx: Party.ConnectionContext) {
    connection.send(JSON.stringify({ node: this.node, id: connection.id, hooked: ctx.request.headers.get("x-hooked"), url: ctx.request.url }));
  }
  onMessage(message: string | ArrayBuffer, connection: Party.Connection) {
    if (typeof message !== "string") return connection.send(message);
    if (message.startsWith("bcast:")) return this.room.broadcast(message);
    const close = /^close:(\d+)$/.exec(message);
    if (close) return connection.close(Number(close[1]), "bye from owner");
    connection.send(`${this.node}:${message}`);
  }
  onClose(connection: Party.Connection) {
    closes.push(`${this.node}:${this.room.id}:${connection.id}`);
  }
}

/** The same room with onBefore* hooks (main); `plain` has none, so its requests reach the router untouched. */
class Hooked extends Room {
  static onBeforeRequest(req: Party.Request, lobby: Party.Lobby) {
    if (new URL(req.url).searchParams.has("deny")) throw new Error("denied at the edge");
    req.headers.set("x-hooked", String(lobby.env.NODE));
    return req;
  }
  static onBeforeConnect(req: Party.Request, lobby: Party.Lobby) {
    if (new URL(req.url).searchParams.has("deny")) throw new Error("denied at the edge");
    req.headers.set("x-hooked", String(lobby.env.NODE));
    return req;
  }
}

/** The sharding pattern: onBeforeConnect hands the client to another room with stub.fetch(). */
class Sharded extends Room {
  static onBeforeConnect(req: Party.Request, lobby: Party.Lobby) {
    const to = new URL(req.url).searchParams.get("to")!;
    return lobby.parties.plain!.get(to).fetch(req);
  }
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; ) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe("cluster routing: HTTP through a node that does not own the room", () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startTestCluster(["a", "b", "c"], { main: Hooked, plain: Room });
    cluster.table.assign({ party: "main", room: "http-1" }, "a");
  });
  after(() => cluster.close());

  it("reaches the owner's one instance, after onBeforeRequest ran on the edge", async () => {
    const viaB = await (await cluster.nodes.b!.fetch("/parties/main/http-1/x?q=1")).json();
    const viaC = await (await cluster.nodes.c!.fetch("/parties/main/http-1/x?q=2")).json();
    const direct = await (await cluster.nodes.a!.fetch("/parties/main/http-1/x?q=3")).json();
    assert.equal(viaB.node, "a");
    assert.equal(viaC.node, "a");
    assert.equal(direct.node, "a");
    assert.equal(viaB.hooked, "b", "onBeforeRequest ran on the node the client reached");
    assert.equal(viaC.hooked, "c");
    assert.equal(direct.hooked, "a");
    assert.deepEqual(
      started.filter((s) => s.endsWith(":http-1")),
      ["a:http-1"],
      "one instance, on the owner",
    );
  });

  it("gives the owner the URL, client address headers and cf that the edge saw, and never the secret", async () => {
    const port = cluster.nodes.b!.port;
    const seen = await (await cluster.nodes.b!.fetch("/parties/main/http-1/x?q=1")).json();
    assert.equal(seen.url, `http://127.0.0.1:${port}/parties/main/http-1/x?q=1`);
    assert.equal(seen.ip, "127.0.0.1");
    assert.equal(seen.forwardedFor, "127.0.0.1", "the hop between nodes is not appended");
    assert.deepEqual(seen.secretSeen, []);
    assert.equal(seen.cf.httpProtocol, "HTTP/1.1");
  });

  it("keeps the edge's own x-partyhouse-edge (and a client's forged one) from the room, on the link and with a streamed body", async () => {
    const headers = { "x-partyhouse-edge": "spoofed" };
    const viaLink = await (await cluster.nodes.b!.fetch("/parties/main/http-1/x", { headers })).json();
    assert.deepEqual(viaLink.secretSeen, []);
    // Unsized, so it streams over a connection of its own instead of the link.
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("streamed"));
        controller.close();
      },
    });
    const init = { method: "POST", headers, body, duplex: "half" } as RequestInit;
    const streamed = await (await cluster.nodes.b!.fetch("/parties/main/http-1/x", init)).json();
    assert.equal(streamed.body, "streamed");
    assert.deepEqual(streamed.secretSeen, []);
  });

  it("streams bodies both ways and keeps status, headers and every Set-Cookie", async () => {
    const response = await cluster.nodes.b!.fetch("/parties/main/http-1/cookies", { method: "POST", body: "hello" });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get("x-answer"), "yes");
    assert.deepEqual(response.headers.getSetCookie(), ["a=1; Path=/", "b=2; Path=/"]);
    assert.equal(await response.text(), "POST hello");

    const streamed = await cluster.nodes.b!.fetch("/parties/main/http-1/stream");
    assert.equal(await streamed.text(), "part0;part1;part2;");

    const chunked = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode("chunk-1 "));
        controller.enqueue(new TextEncoder().encode("chunk-2"));
        controller.close();
      },
    });
    const init = { method: "PUT", body: chunked, duplex: "half" } as RequestInit;
    const echoed = await (await cluster.nodes.c!.fetch("/parties/main/http-1/body", init)).json();
    assert.equal(echoed.body, "chunk-1 chunk-2");
    assert.equal(echoed.method, "PUT");

    const head = await cluster.nodes.b!.fetch("/parties/main/http-1/cookies", { method: "HEAD" });
    assert.equal(head.status, 201);
    assert.equal(await head.text(), "");
  });

  it("forwards a request no hook touched straight from the client's stream", async () => {
    cluster.table.assign({ party: "plain", room: "p1" }, "a");
    const big = "x".repeat(3 * 1024 * 1024); // over the replay limit: streamed, not buffered
    const echoed = await (await cluster.nodes.b!.fetch("/parties/plain/p1/body", { method: "POST", body: big })).json();
    assert.equal(echoed.node, "a");
    assert.equal(echoed.body.length, big.length);
    assert.equal(echoed.hooked, null);
    const small = await (await cluster.nodes.c!.fetch("/parties/plain/p1/body", { method: "POST", body: "small" })).json();
    assert.equal(small.body, "small");
  });

  it("answers onBeforeRequest's refusal on the edge without reaching the owner", async () => {
    const response = await cluster.nodes.b!.fetch("/parties/main/http-1/x?deny=1");
    assert.equal(response.status, 401);
    assert.equal(await response.text(), "denied at the edge");
  });

  it("routes room-to-room stub.fetch to the node that owns the target", async () => {
    cluster.table.assign({ party: "main", room: "stub-target" }, "c");
    const answer = await (await cluster.nodes.b!.fetch("/parties/main/http-1/call/stub-target")).json();
    assert.equal(answer.node, "c");
    assert.equal(answer.method, "POST");
    assert.equal(answer.body, "from http-1");
    assert.equal(answer.hooked, null, "stubs bypass onBeforeRequest");
  });

  it("places an unassigned room on one node, whichever node is asked", async () => {
    const answers = await Promise.all(
      ["a", "b", "c", "a", "b", "c"].map(async (id) => (await (await cluster.nodes[id]!.fetch("/parties/main/fresh-room")).json()).node),
    );
    assert.equal(new Set(answers).size, 1);
    assert.equal(cluster.table.ownerOf({ party: "main", room: "fresh-room" }), answers[0]);
    assert.equal(started.filter((s) => s.endsWith(":fresh-room")).length, 1);
  });
});

describe("cluster routing: the shared secret", () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startTestCluster(["a", "b"], { main: Hooked, plain: Room });
    cluster.table.assign({ party: "main", room: "guarded" }, "a");
  });
  after(() => cluster.close());

  it("refuses an outside request that carries the internal header with a wrong secret", async () => {
    const forged = { "x-partyhouse-internal": "guess", "x-partyhouse-url": "http://evil/parties/main/guarded" };
    const response = await cluster.nodes.a!.fetch("/parties/main/guarded/x", { headers: forged });
    assert.equal(response.status, 403);
    await assert.rejects(
      TestSocket.open(`ws://127.0.0.1:${cluster.nodes.a!.port}/parties/main/guarded`, { headers: forged }),
      (error: Error & { status?: number }) => error.status === 403,
    );
    // Without the header the same requests are ordinary ones.
    assert.equal((await cluster.nodes.a!.fetch("/parties/main/guarded/x")).status, 200);
  });

  it("switches to a peer link only for a caller with the secret", async () => {
    assert.equal(await linkUpgradeStatus(cluster.nodes.a!.port, { "x-partyhouse-internal": "guess" }), 403);
    assert.equal(await linkUpgradeStatus(cluster.nodes.a!.port, {}), 403);
    const single = await startTestServer({ parties: { main: Room }, memory: true });
    try {
      assert.equal(await linkUpgradeStatus(single.port, {}), 403, "no secret, no link");
    } finally {
      await single.close();
    }
  });
});

/** The status a peer-link upgrade gets (101 when the node switches). */
function linkUpgradeStatus(port: number, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path: "/", headers: { connection: "Upgrade", upgrade: "partyhouse-link", ...headers } });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve(res.statusCode ?? 0);
    });
    req.on("response", (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("cluster routing: WebSockets through a node that does not own the room", () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startTestCluster(["a", "b"], { main: Hooked, plain: Room, shard: Sharded });
    cluster.table.assign({ party: "main", room: "ws-1" }, "a");
  });
  after(() => cluster.close());

  const url = (node: string, path: string) => `ws://127.0.0.1:${cluster.nodes[node]!.port}${path}`;

  it("runs onBeforeConnect on the edge and onConnect on the owner, with the client's _pk", async () => {
    const socket = await TestSocket.open(url("b", "/parties/main/ws-1?_pk=alice"));
    const hello = JSON.parse(await socket.nextText());
    assert.deepEqual(
      { node: hello.node, id: hello.id, hooked: hello.hooked },
      { node: "a", id: "alice", hooked: "b" },
    );
    assert.equal(hello.url, `http://127.0.0.1:${cluster.nodes.b!.port}/parties/main/ws-1?_pk=alice`);
    socket.send("hi");
    assert.equal(await socket.nextText(), "a:hi");
    const binary = new Uint8Array([0, 1, 2, 255]);
    socket.send(binary);
    const back = await socket.next();
    assert.ok(back instanceof ArrayBuffer, "binary stays binary");
    assert.deepEqual([...new Uint8Array(back)], [...binary]);
    socket.ws.close(4001, "client leaves");
    assert.deepEqual(await socket.closed, { code: 4001, reason: "client leaves" });
    await until(() => closes.includes("a:ws-1:alice"), "onClose on the owner");
  });

  it("delivers a broadcast to clients on different edges", async () => {
    const onA = await TestSocket.open(url("a", "/parties/main/ws-1?_pk=on-a"));
    const onB = await TestSocket.open(url("b", "/parties/main/ws-1?_pk=on-b"));
    await onA.nextText();
    await onB.nextText();
    onB.send("bcast:hello all");
    assert.equal(await onA.nextText(), "bcast:hello all");
    assert.equal(await onB.nextText(), "bcast:hello all");
    onA.ws.close();
    onB.ws.close();
  });

  it("passes the owner's close code and reason to the client", async () => {
    const socket = await TestSocket.open(url("b", "/parties/main/ws-1?_pk=closer"));
    await socket.nextText();
    socket.send("close:4002");
    assert.deepEqual(await socket.closed, { code: 4002, reason: "bye from owner" });
  });

  it("rejects on the edge with onBeforeConnect's status", async () => {
    await assert.rejects(TestSocket.open(url("b", "/parties/main/ws-1?deny=1")), (error: Error & { status?: number }) => error.status === 401);
  });

  it("connects a client to a room on another node that onBeforeConnect picked with stub.fetch()", async () => {
    cluster.table.assign({ party: "plain", room: "shard-target" }, "a");
    const socket = await TestSocket.open(url("b", "/parties/shard/entry?to=shard-target"));
    const hello = JSON.parse(await socket.nextText());
    assert.equal(hello.node, "a", "the target room's onConnect ran on its owner");
    assert.match(hello.url, /\/parties\/plain\/shard-target$/, "the room sees its own URL, as with a local stub.fetch()");
    socket.send("hi");
    assert.equal(await socket.nextText(), "a:hi");
    socket.ws.close();
  });

  it("echoes the first subprotocol through the proxy", async () => {
    const ws = new WebSocket(url("b", "/parties/main/ws-1?_pk=proto"), ["p1", "p2"]);
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    assert.equal(ws.protocol, "p1");
    ws.close();
  });
});

describe("cluster routing: stale routes", () => {
  let cluster: TestCluster;
  before(async () => {
    cluster = await startTestCluster(["a", "b", "c"], { main: Hooked, plain: Room });
  });
  after(() => cluster.close());

  it("retries an HTTP request whose owner moved, and reaches the new owner", async () => {
    cluster.table.assign({ party: "main", room: "mover" }, "a");
    assert.equal((await (await cluster.nodes.b!.fetch("/parties/main/mover")).json()).node, "a"); // b caches a
    cluster.table.assign({ party: "main", room: "mover" }, "c"); // a is told it lost the room
    const moved = await (await cluster.nodes.b!.fetch("/parties/main/mover", { method: "POST", body: "again" })).json();
    assert.equal(moved.node, "c");
    assert.equal(moved.body, "again", "a small body is sent again");
    const stale = cluster.logs.filter((l) => l.node === "b" && l.event === "stale route to a room's owner" && l.fields.room === "mover");
    assert.deepEqual(
      stale.map((l) => [l.fields.node, l.fields.answer]),
      [["a", "moved"]],
      "a answered moved once, then b found c",
    );
  });

  it("retries a WebSocket whose owner moved", async () => {
    cluster.table.assign({ party: "main", room: "ws-mover" }, "a");
    const first = await TestSocket.open(`ws://127.0.0.1:${cluster.nodes.b!.port}/parties/main/ws-mover?_pk=one`);
    assert.equal(JSON.parse(await first.nextText()).node, "a");
    cluster.table.assign({ party: "main", room: "ws-mover" }, "c");
    assert.equal((await first.closed).code, 1012, "sockets of a room lost to another node close with 1012");
    const second = await TestSocket.open(`ws://127.0.0.1:${cluster.nodes.b!.port}/parties/main/ws-mover?_pk=two`);
    assert.equal(JSON.parse(await second.nextText()).node, "c");
    second.ws.close();
  });

  it("gives up after the retries with a 503 when the owner cannot be reached", async () => {
    cluster.table.setAddress("ghost", "127.0.0.1:1"); // nothing listens on port 1
    cluster.table.assign({ party: "main", room: "haunted" }, "ghost");
    const response = await cluster.nodes.b!.fetch("/parties/main/haunted");
    assert.equal(response.status, 503);
    assert.equal(response.headers.get("retry-after"), "1");
  });
});
