import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type * as Party from "../types/party.js";
import { startTestServer, type TestServer } from "../testing/index.js";

class Main implements Party.Server {
  constructor(readonly room: Party.Room) {}
  async onRequest(req: Party.Request) {
    const url = new URL(req.url);
    if (url.pathname.endsWith("/throw")) throw new Error("boom");
    if (url.pathname.endsWith("/teapot")) throw Object.assign(new Error("short and stout"), { code: 418 });
    if (url.pathname.endsWith("/not-a-response")) return "nope" as unknown as Response;
    if (url.pathname.endsWith("/throw-string")) throw "a plain string";
    if (url.pathname.endsWith("/throw-empty")) throw new Error();
    if (url.pathname.endsWith("/used-body")) {
      const used = new Response("read already");
      await used.text();
      return used;
    }
    if (url.pathname.endsWith("/headers")) {
      return Response.json({
        ip: req.headers.get("cf-connecting-ip"),
        forwarded: req.headers.get("x-forwarded-for"),
        hooked: req.headers.get("x-hooked"),
        cf: typeof req.cf,
      });
    }
    if (url.pathname.endsWith("/call-other")) {
      return this.room.context.parties.other!.get("o1").fetch("/from-main?deny-other=1");
    }
    if (url.pathname.endsWith("/call-with-request")) {
      const forwarded = new Request("http://elsewhere.invalid/ignored/path?q=1", { method: "PUT", body: "payload" });
      return this.room.context.parties.other!.get("o2").fetch(forwarded);
    }
    if (url.pathname.endsWith("/socket-headers")) {
      const ws = await this.room.context.parties.other!.get("o4").socket("/headers", { headers: { "x-custom": "1" } });
      const first = await new Promise<string>((resolve) => ws.addEventListener("message", (e) => resolve(String(e.data)), { once: true }));
      ws.close();
      return new Response(first);
    }
    if (url.pathname.endsWith("/socket-other")) {
      const ws = await this.room.context.parties.other!.get("o3").socket("/ws?z=1");
      // Listening only after the await must still see the message sent in onConnect.
      const first = await new Promise<string>((resolve) => ws.addEventListener("message", (e) => resolve(String(e.data)), { once: true }));
      ws.close();
      return new Response(first);
    }
    return Response.json({ id: this.room.id, name: this.room.name, url: req.url, method: req.method });
  }
  onConnect(connection: Party.Connection, ctx: Party.ConnectionContext) {
    connection.send(JSON.stringify({ id: connection.id, room: this.room.id, hooked: ctx.request.headers.get("x-hooked") }));
  }
  static onBeforeRequest(req: Party.Request) {
    const url = new URL(req.url);
    if (url.searchParams.has("deny")) throw new Error("denied by hook");
    if (url.searchParams.has("forbid")) return new Response("forbidden", { status: 403 });
    const changed = new Request(req);
    changed.headers.set("x-hooked", "yes");
    return changed;
  }
  static onBeforeConnect(req: Party.Request) {
    if (new URL(req.url).searchParams.get("token") === "bad") throw new Error("bad token");
    req.headers.set("x-hooked", "ws");
    return req;
  }
  static onFetch(req: Party.Request) {
    const url = new URL(req.url);
    if (url.pathname === "/hello") return new Response("hello from onFetch");
    if (url.pathname === "/fetch-throws") throw new Error("onFetch broke");
    return null;
  }
  static onSocket(socket: Party.FetchSocket) {
    socket.send(`socket at ${new URL(socket.request.url).pathname}`);
  }
}

class Other implements Party.Server {
  constructor(readonly room: Party.Room) {}
  async onRequest(req: Party.Request) {
    const body = req.method === "PUT" ? ` ${req.method} ${await req.text()}` : "";
    return new Response(`other ${this.room.id} ${new URL(req.url).pathname}${new URL(req.url).search} hooked=${req.headers.get("x-hooked")}${body}`);
  }
  onConnect(connection: Party.Connection, ctx: Party.ConnectionContext) {
    if (new URL(ctx.request.url).pathname.endsWith("/headers")) {
      return connection.send([...ctx.request.headers].map(([name, value]) => `${name}=${value}`).join(" "));
    }
    connection.send(`other hello ${new URL(ctx.request.url).pathname}`);
  }
  static onBeforeRequest(req: Party.Request) {
    if (new URL(req.url).searchParams.has("deny-other")) throw new Error("stubs must bypass onBeforeRequest");
    return req;
  }
}

class NoRequest implements Party.Server {
  onConnect(connection: Party.Connection) {
    connection.send("hi");
  }
}

describe("front door routing", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ parties: { main: Main, other: Other, norequest: NoRequest }, memory: true });
  });
  after(() => server.close());

  it("routes /parties/:party/:room with sub-path and query to onRequest", async () => {
    const res = await server.fetch("/parties/main/r1/sub/path?x=1", { method: "POST", body: "b" });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { id: string; name: string; url: string; method: string };
    assert.equal(body.id, "r1");
    assert.equal(body.name, "main");
    assert.equal(body.method, "POST");
    assert.equal(body.url, `${server.url}/parties/main/r1/sub/path?x=1`);
  });

  it("routes the legacy /party/:room form to main", async () => {
    const body = (await (await server.fetch("/party/legacy/x")).json()) as { id: string; name: string };
    assert.deepEqual([body.id, body.name], ["legacy", "main"]);
  });

  it("keeps room ids raw (not percent-decoded)", async () => {
    const body = (await (await server.fetch("/parties/main/a%20b")).json()) as { id: string };
    assert.equal(body.id, "a%20b");
  });

  it("answers 404 for unknown parties and for non-room paths without a handler", async () => {
    const unknown = await server.fetch("/parties/nope/r1");
    assert.equal(unknown.status, 404);
    assert.equal(await unknown.text(), "Party nope not found");
    const empty = await server.fetch("/parties/main/");
    assert.equal(empty.status, 404);
    assert.equal(await empty.text(), "Not found");
  });

  it("maps handler errors to statuses like PartyKit", async () => {
    const thrown = await server.fetch("/parties/main/r1/throw");
    assert.deepEqual([thrown.status, await thrown.text()], [500, "boom"]);
    const teapot = await server.fetch("/parties/main/r1/teapot");
    assert.deepEqual([teapot.status, await teapot.text()], [418, "short and stout"]);
    const wrong = await server.fetch("/parties/main/r1/not-a-response");
    assert.equal(wrong.status, 500);
    assert.equal(await wrong.text(), "Incorrect type for Promise: the Promise did not resolve to 'Response'.");
    const none = await server.fetch("/parties/norequest/r1");
    assert.deepEqual([none.status, await none.text()], [500, "No onRequest handler"]);
    // PartyKit's own `"code" in error` fails on a primitive; its message is the body.
    const primitive = await server.fetch("/parties/main/r1/throw-string");
    assert.deepEqual([primitive.status, await primitive.text()], [500, "Cannot use 'in' operator to search for 'code' in a plain string"]);
    const empty = await server.fetch("/parties/main/r1/throw-empty");
    assert.deepEqual([empty.status, await empty.text()], [500, "Uncaught exception when making a request"]);
  });

  it("answers 500 when the room's Response cannot be sent (its body was already read)", async () => {
    const res = await server.fetch("/parties/main/r1/used-body");
    assert.equal(res.status, 500);
    assert.match(await res.text(), /already been used/);
  });

  it("runs onBeforeRequest: throw is 401, a Response is returned, a Request is forwarded", async () => {
    const denied = await server.fetch("/parties/main/r1?deny");
    assert.deepEqual([denied.status, await denied.text()], [401, "denied by hook"]);
    const forbidden = await server.fetch("/parties/main/r1?forbid");
    assert.deepEqual([forbidden.status, await forbidden.text()], [403, "forbidden"]);
    const body = (await (await server.fetch("/parties/main/r1/headers")).json()) as Record<string, unknown>;
    assert.equal(body.hooked, "yes");
    assert.equal(body.ip, "127.0.0.1");
    assert.match(String(body.forwarded), /127\.0\.0\.1/);
    assert.equal(body.cf, "object");
  });

  it("serves onFetch for non-room paths; null and throws fall through as PartyKit does", async () => {
    assert.equal(await (await server.fetch("/hello")).text(), "hello from onFetch");
    const missing = await server.fetch("/nothing-here");
    assert.deepEqual([missing.status, await missing.text()], [404, "Not found"]);
    const broken = await server.fetch("/fetch-throws");
    assert.deepEqual([broken.status, await broken.text()], [500, "onFetch broke"]);
  });

  it("lets rooms call other parties' rooms without their onBeforeRequest", async () => {
    const res = await server.fetch("/parties/main/r1/call-other");
    assert.equal(await res.text(), "other o1 /parties/other/o1/from-main?deny-other=1 hooked=null");
    const direct = await server.fetch("/parties/other/o1?deny-other=1");
    assert.equal(direct.status, 401, "the same request from outside does go through onBeforeRequest");
  });

  it("stub.fetch(Request) takes the Request's method and body but not its URL, as PartyKit does", async () => {
    const res = await server.fetch("/parties/main/r1/call-with-request");
    assert.equal(await res.text(), "other o2 /parties/other/o2 hooked=null PUT payload");
  });

  it("stub.socket() shows its target only upgrade and the caller's headers, as PartyKit does", async () => {
    const res = await server.fetch("/parties/main/r1/socket-headers");
    assert.equal(await res.text(), "upgrade=websocket x-custom=1");
  });

  it("stub.socket() resolves before the first message is emitted", async () => {
    const res = await server.fetch("/parties/main/r1/socket-other");
    assert.equal(await res.text(), "other hello /parties/other/o3/ws");
  });

  it("connects WebSockets through onBeforeConnect and echoes the first subprotocol", async () => {
    const socket = await server.connect("/parties/main/ws1?_pk=abc", { protocols: ["p1", "p2"] });
    const hello = JSON.parse(await socket.nextText()) as Record<string, unknown>;
    assert.deepEqual(hello, { id: "abc", room: "ws1", hooked: "ws" });
    assert.equal(socket.ws.protocol, "p1");
    await socket.close();
  });

  it("rejects WebSockets: 401 from onBeforeConnect, 404 for unknown parties", async () => {
    await assert.rejects(server.connect("/parties/main/ws1?token=bad"), { status: 401, body: "bad token" });
    await assert.rejects(server.connect("/parties/nope/ws1"), { status: 404, body: "Party nope not found" });
  });

  it("hands non-room upgrades to main's onSocket", async () => {
    const socket = await server.connect("/custom/socket");
    assert.equal(await socket.nextText(), "socket at /custom/socket");
    await socket.close();
  });

  it("gives the same room id in two parties two different rooms", async () => {
    const main = (await (await server.fetch("/parties/main/shared")).json()) as { name: string };
    const other = await (await server.fetch("/parties/other/shared")).text();
    assert.equal(main.name, "main");
    assert.match(other, /^other shared/);
  });

  it("answers malformed request targets with 400 and keeps serving", async () => {
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: "127.0.0.1", port: server.port, path: "//%%bad", method: "GET" }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    assert.ok(status === 400 || status === 404, `status ${status}`);
    assert.equal((await server.fetch("/hello")).status, 200);
  });
});

describe("non-room upgrades without onSocket", () => {
  class FetchOnly implements Party.Server {
    static onFetch(req: Party.Request) {
      const url = new URL(req.url);
      return url.pathname === "/answered" ? new Response(`onFetch ${req.headers.get("upgrade")}`) : null;
    }
  }
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ parties: { main: FetchOnly }, memory: true });
  });
  after(() => server.close());

  it("are answered like any request (onFetch, then 404) and not upgraded, as on PartyKit", async () => {
    await assert.rejects(server.connect("/answered"), { status: 200, body: "onFetch websocket" });
    await assert.rejects(server.connect("/elsewhere"), { status: 404, body: "Not found" });
  });
});

describe("the legacy object API's unstable_onFetch", () => {
  // Typed as PartyKit types it: returning null passes the request on to the 404.
  const legacy = {
    unstable_onFetch(req: Party.Request) {
      const url = new URL(req.url);
      return url.pathname === "/legacy-hello" ? new Response("hello from unstable_onFetch") : null;
    },
  } satisfies Party.PartyKitServer;
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ parties: { main: legacy }, memory: true });
  });
  after(() => server.close());

  it("answers non-room paths, and null falls through to 404", async () => {
    assert.equal(await (await server.fetch("/legacy-hello")).text(), "hello from unstable_onFetch");
    const missing = await server.fetch("/elsewhere");
    assert.deepEqual([missing.status, await missing.text()], [404, "Not found"]);
  });
});
