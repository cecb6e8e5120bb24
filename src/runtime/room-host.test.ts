import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, it } from "node:test";
import type * as Party from "../types/party.js";
import { startTestServer, type TestServer } from "../testing/index.js";
import { TOO_LARGE_REASON } from "../server/room-websockets.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(parties: Parameters<typeof startTestServer>[0]["parties"], extra: Partial<Parameters<typeof startTestServer>[0]> = {}) {
  server = await startTestServer({ parties, memory: true, ...extra });
  return server;
}

describe("room lifecycle", () => {
  it("builds exactly one instance per room under concurrent first requests", async () => {
    let constructed = 0;
    class Counter implements Party.Server {
      constructor(readonly room: Party.Room) {
        constructed++;
      }
      async onStart() {
        await sleep(20);
      }
      onRequest() {
        return new Response(String(constructed));
      }
    }
    const s = await start(Counter);
    const answers = await Promise.all(Array.from({ length: 20 }, () => s.fetch("/parties/main/one").then((r) => r.text())));
    assert.deepEqual(new Set(answers), new Set(["1"]));
    assert.equal(constructed, 1);
  });

  it("gates every event on onStart, including ones that arrive while it awaits I/O", async () => {
    const order: string[] = [];
    class Slow implements Party.Server {
      ready = false;
      async onStart() {
        order.push("start:begin");
        await sleep(100);
        this.ready = true;
        order.push("start:end");
      }
      onConnect(connection: Party.Connection) {
        connection.send(`ready=${this.ready}`);
      }
      onRequest() {
        order.push("request");
        return new Response(`ready=${this.ready}`);
      }
    }
    const s = await start(Slow);
    const first = s.fetch("/parties/main/g");
    await sleep(20);
    const socket = s.connect("/parties/main/g");
    const second = s.fetch("/parties/main/g");
    assert.equal(await (await first).text(), "ready=true");
    assert.equal(await (await second).text(), "ready=true");
    assert.equal(await (await socket).nextText(), "ready=true");
    assert.deepEqual(order.slice(0, 2), ["start:begin", "start:end"]);
  });

  it("answers 500 when onStart throws and retries it on the next event", async () => {
    let attempts = 0;
    class Flaky implements Party.Server {
      async onStart() {
        attempts++;
        if (attempts === 1) throw new Error("first start fails");
      }
      onRequest() {
        return new Response(`ok after ${attempts}`);
      }
    }
    const s = await start(Flaky);
    const failed = await s.fetch("/parties/main/f");
    assert.deepEqual([failed.status, await failed.text()], [500, "first start fails"]);
    assert.equal(await (await s.fetch("/parties/main/f")).text(), "ok after 2");
  });

  it("blockConcurrencyWhile holds other events until it settles", async () => {
    class Blocker implements Party.Server {
      value = "old";
      constructor(readonly room: Party.Room) {}
      onRequest(req: Party.Request) {
        if (new URL(req.url).pathname.endsWith("/block")) {
          void this.room.blockConcurrencyWhile(async () => {
            await sleep(100);
            this.value = "new";
          });
          return new Response("blocking");
        }
        return new Response(this.value);
      }
    }
    const s = await start(Blocker);
    assert.equal(await (await s.fetch("/parties/main/b/block")).text(), "blocking");
    assert.equal(await (await s.fetch("/parties/main/b")).text(), "new");
  });

  it("keeps the process and other rooms alive when handlers throw or hang", async () => {
    class Fragile implements Party.Server {
      constructor(readonly room: Party.Room) {}
      onMessage(message: string | ArrayBuffer, sender: Party.Connection) {
        if (message === "throw") throw new Error("handler exploded");
        if (message === "reject") return Promise.reject(new Error("async explosion"));
        if (message === "hang") return new Promise<void>(() => {});
        sender.send(`echo ${String(message)}`);
      }
      onRequest() {
        return new Response(`alive ${this.room.id}`);
      }
    }
    const s = await start(Fragile);
    const socket = await s.connect("/parties/main/x");
    for (const poison of ["throw", "reject", "hang"]) socket.send(poison);
    socket.send("still here");
    assert.equal(await socket.nextText(), "echo still here");
    assert.equal(await (await s.fetch("/parties/main/other")).text(), "alive other");
  });
});

describe("connections", () => {
  it("uses _pk as the id, delivers text as string and binary as ArrayBuffer", async () => {
    class Echo implements Party.Server {
      onMessage(message: string | ArrayBuffer, sender: Party.Connection) {
        if (typeof message === "string") sender.send(`text:${message}:${sender.id}`);
        else {
          assert.ok(message instanceof ArrayBuffer, "binary must be an ArrayBuffer");
          assert.ok(!Buffer.isBuffer(message));
          sender.send(new Uint8Array(message).reverse());
        }
      }
    }
    const s = await start(Echo);
    const socket = await s.connect("/parties/main/e?_pk=me");
    socket.send("hi");
    assert.equal(await socket.nextText(), "text:hi:me");
    socket.send(new Uint8Array([1, 2, 3]));
    const reply = await socket.next();
    assert.ok(reply instanceof ArrayBuffer);
    assert.deepEqual([...new Uint8Array(reply)], [3, 2, 1]);
  });

  it("delivers sends made in onConnect after the socket opens, before later messages", async () => {
    class Greeter implements Party.Server {
      async onConnect(connection: Party.Connection) {
        connection.send("one");
        await sleep(30);
        connection.send("two");
      }
      onMessage(message: string | ArrayBuffer, sender: Party.Connection) {
        sender.send(`got ${String(message)}`);
      }
    }
    const s = await start(Greeter);
    const socket = await s.connect("/parties/main/g");
    socket.send("three");
    assert.deepEqual([await socket.nextText(), await socket.nextText(), await socket.nextText()], ["one", "two", "got three"]);
  });

  it("closes with 1011 and the message when onConnect or getConnectionTags throws", async () => {
    class Picky implements Party.Server {
      // Tags are limited where PartyKit stores them: in hibernating rooms.
      readonly options = { hibernate: true };
      getConnectionTags(connection: Party.Connection) {
        if (new URL(connection.uri).searchParams.has("manytags")) return Array.from({ length: 10 }, (_, i) => `t${i}`);
        return [];
      }
      onConnect(connection: Party.Connection) {
        if (new URL(connection.uri).searchParams.has("reject")) throw new Error("not welcome");
      }
    }
    const s = await start(Picky);
    const rejected = await s.connect("/parties/main/p?reject");
    assert.deepEqual(await rejected.closed, { code: 1011, reason: "not welcome" });
    const tagged = await s.connect("/parties/main/p?manytags");
    const closed = await tagged.closed;
    assert.deepEqual(closed, { code: 1011, reason: "A connection can only have 10 tags, including the default id tag." });
  });

  it("limits tags only in hibernating rooms, as PartyKit does, and drops the id from them", async () => {
    const tagsOf = (connection: Party.Connection) => {
      const url = new URL(connection.uri);
      if (url.searchParams.has("empty")) return [""];
      // Ten tags, one of them the id: nine once the id is dropped, so within the limit.
      return [connection.id, ...Array.from({ length: 9 }, (_, i) => `t${i}`)];
    };
    class InMemory implements Party.Server {
      constructor(readonly room: Party.Room) {}
      getConnectionTags = tagsOf;
      onConnect(connection: Party.Connection) {
        connection.send(`in ${[...this.room.getConnections("t8")].length}`);
      }
    }
    class Hibernating extends InMemory {
      readonly options = { hibernate: true };
    }
    const s = await start({ main: InMemory, hib: Hibernating });
    assert.equal(await (await s.connect("/parties/main/t?_pk=a")).nextText(), "in 1");
    assert.equal(await (await s.connect("/parties/main/t2?_pk=b&empty")).nextText(), "in 0");
    assert.equal(await (await s.connect("/parties/hib/t?_pk=a")).nextText(), "in 1");
    const empty = await s.connect("/parties/hib/t?_pk=b&empty");
    assert.deepEqual(await empty.closed, { code: 1011, reason: "A connection tag must not be an empty string." });
  });

  it("closes 1009 for frames over 1 MiB; exactly 1 MiB passes and other sockets are unaffected", async () => {
    class Size implements Party.Server {
      constructor(readonly room: Party.Room) {}
      onMessage(message: string | ArrayBuffer, sender: Party.Connection) {
        sender.send(String(typeof message === "string" ? message.length : message.byteLength));
      }
      // As on PartyKit: the oversized message is an error (workerd's "internal error"), not a close.
      onError(connection: Party.Connection, error: Error) {
        this.room.broadcast(`error ${connection.id} ${error.message}`);
      }
      onClose(connection: Party.Connection) {
        this.room.broadcast(`close ${connection.id}`);
      }
    }
    const s = await start(Size);
    const ok = await s.connect("/parties/main/s?_pk=big");
    const bystander = await s.connect("/parties/main/s");
    ok.send(new Uint8Array(1024 * 1024));
    assert.equal(await ok.nextText(), String(1024 * 1024));
    ok.send(new Uint8Array(1024 * 1024 + 1));
    assert.deepEqual(await ok.closed, { code: 1009, reason: TOO_LARGE_REASON });
    assert.equal(await bystander.nextText(), "error big internal error");
    bystander.send("x");
    assert.equal(await bystander.nextText(), "1");
    await sleep(100);
    assert.equal(bystander.pending, 0, "no onClose follows the onError");
  });

  it("fires onClose for an abrupt disconnect and completes the client's close handshake", async () => {
    const closedIds: string[] = [];
    class Closer implements Party.Server {
      onClose(connection: Party.Connection) {
        closedIds.push(connection.id);
      }
    }
    const s = await start(Closer);
    const dropped = await s.connect("/parties/main/c?_pk=dropped");
    dropped.terminate();
    const polite = await s.connect("/parties/main/c?_pk=polite");
    const info = await polite.close(1000, "bye");
    assert.equal(info.code, 1000);
    for (let i = 0; i < 50 && closedIds.length < 2; i++) await sleep(10);
    assert.deepEqual(closedIds.sort(), ["dropped", "polite"]);
  });

  it("server close() without a code reaches the client as 1005; custom codes pass through", async () => {
    class Kicker implements Party.Server {
      onMessage(message: string | ArrayBuffer, sender: Party.Connection) {
        if (message === "plain") sender.close();
        else sender.close(4002, "custom");
      }
    }
    const s = await start(Kicker);
    const a = await s.connect("/parties/main/k");
    a.send("plain");
    assert.equal((await a.closed).code, 1005);
    const b = await s.connect("/parties/main/k");
    b.send("custom");
    assert.deepEqual(await b.closed, { code: 4002, reason: "custom" });
  });

  it("broadcasts to open sockets except those listed, skipping closing ones without throwing", async () => {
    class Room implements Party.Server {
      constructor(readonly room: Party.Room) {}
      onMessage(message: string | ArrayBuffer, sender: Party.Connection) {
        if (message === "leave") {
          sender.close();
          this.room.broadcast("after-leave", []);
          return;
        }
        this.room.broadcast(`${sender.id}:${String(message)}`, [sender.id]);
      }
    }
    const s = await start(Room);
    const a = await s.connect("/parties/main/b?_pk=a");
    const b = await s.connect("/parties/main/b?_pk=b");
    const c = await s.connect("/parties/main/b?_pk=c");
    a.send("hello");
    assert.equal(await b.nextText(), "a:hello");
    assert.equal(await c.nextText(), "a:hello");
    c.send("leave");
    assert.equal(await a.nextText(), "after-leave");
    assert.equal(await b.nextText(), "after-leave");
    await c.closed;
    assert.equal(c.pending, 0, "the closing socket must not receive the broadcast");
    assert.equal(a.pending, 0, "the sender is excluded");
  });

  it("keeps the order of sends and broadcasts, text and binary, within and across turns", async () => {
    class Mixed implements Party.Server {
      constructor(readonly room: Party.Room) {}
      async onMessage(_message: string | ArrayBuffer, sender: Party.Connection) {
        sender.send("1");
        this.room.broadcast("2");
        sender.send(new Uint8Array([3]));
        await Promise.resolve();
        this.room.broadcast(new Uint8Array([4]));
        await new Promise((resolve) => setImmediate(resolve));
        sender.send("5");
      }
    }
    const s = await start(Mixed);
    const socket = await s.connect("/parties/main/order");
    socket.send("go");
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const message = await socket.next();
      seen.push(typeof message === "string" ? message : `bin:${new Uint8Array(message)[0]}`);
    }
    assert.deepEqual(seen, ["1", "2", "bin:3", "bin:4", "5"]);
  });

  it("selects connections by tag and by id; the newest socket wins for a duplicate id", async () => {
    class Tagged implements Party.Server {
      constructor(readonly room: Party.Room) {}
      getConnectionTags(connection: Party.Connection) {
        return [new URL(connection.uri).searchParams.get("team") ?? "none"];
      }
      onRequest(req: Party.Request) {
        const tag = new URL(req.url).searchParams.get("tag") ?? undefined;
        const ids = [...this.room.getConnections(tag)].map((c) => c.id).sort();
        const dup = this.room.getConnection("dup");
        return Response.json({ ids, dupTeam: dup ? new URL(dup.uri).searchParams.get("team") : null });
      }
    }
    const s = await start(Tagged);
    const red = await s.connect("/parties/main/t?_pk=r&team=red");
    await s.connect("/parties/main/t?_pk=b&team=blue");
    const old = await s.connect("/parties/main/t?_pk=dup&team=old");
    await s.connect("/parties/main/t?_pk=dup&team=new");
    const query = async (q: string) => (await (await s.fetch(`/parties/main/t${q}`)).json()) as { ids: string[]; dupTeam: string | null };
    assert.deepEqual((await query("?tag=red")).ids, ["r"]);
    assert.deepEqual((await query("?tag=dup")).ids, ["dup", "dup"]);
    assert.equal((await query("")).dupTeam, "new");
    await old.close();
    await sleep(20);
    const afterClose = await query("");
    assert.deepEqual(afterClose.ids, ["b", "dup", "r"]);
    assert.equal(afterClose.dupTeam, "new", "closing the older duplicate must not hide the live one");
    await red.close();
  });

  it("keeps state with setState (value, updater, null) and a separate attachment in in-memory rooms", async () => {
    class Stateful implements Party.Server {
      onMessage(message: string | ArrayBuffer, sender: Party.Connection<{ n: number }>) {
        if (message === "inc") sender.setState((prev) => ({ n: (prev?.n ?? 0) + 1 }));
        if (message === "clear") sender.setState(null);
        if (message === "attach") sender.serializeAttachment({ a: 1 });
        if (message === "big") sender.setState({ n: "x".repeat(5000).length });
        sender.send(JSON.stringify({ state: sender.state, attachment: sender.deserializeAttachment() }));
      }
    }
    const s = await start(Stateful);
    const socket = await s.connect("/parties/main/st");
    const ask = async (m: string) => {
      socket.send(m);
      return JSON.parse(await socket.nextText()) as unknown;
    };
    assert.deepEqual(await ask("inc"), { state: { n: 1 }, attachment: null });
    assert.deepEqual(await ask("inc"), { state: { n: 2 }, attachment: null });
    assert.deepEqual(await ask("attach"), { state: { n: 2 }, attachment: { a: 1 } });
    assert.deepEqual(await ask("clear"), { state: null, attachment: { a: 1 } });
    assert.deepEqual(await ask("big"), { state: { n: 5000 }, attachment: { a: 1 } });
  });

  it("lets onConnect listeners receive messages (the y-partykit pattern) in a non-hibernating room", async () => {
    class Listener implements Party.Server {
      onConnect(connection: Party.Connection) {
        connection.addEventListener("message", (event) => connection.send(`listener:${String((event as MessageEvent).data)}`));
      }
    }
    const s = await start(Listener);
    const socket = await s.connect("/parties/main/l");
    socket.send("ping");
    assert.equal(await socket.nextText(), "listener:ping");
  });

  it("throws a TypeError when sending after close, as workerd does", async () => {
    class AfterClose implements Party.Server {
      onMessage(_m: string | ArrayBuffer, sender: Party.Connection) {
        sender.close(4000, "closing");
        try {
          sender.send("late");
        } catch (error) {
          lastError = `${(error as Error).name}: ${(error as Error).message}`;
        }
      }
    }
    let lastError = "";
    const s = await start(AfterClose);
    const socket = await s.connect("/parties/main/ac");
    socket.send("x");
    await socket.closed;
    assert.equal(lastError, "TypeError: Can't call WebSocket send() after close().");
  });
});

describe("legacy object API", () => {
  it("dispatches with the room argument and validates handler types", async () => {
    const server: Party.PartyKitServer = {
      onConnect(connection, room) {
        connection.send(`welcome to ${room.id}`);
      },
      onMessage(message, connection, room) {
        room.broadcast(`${connection.id} says ${String(message)}`);
      },
      onRequest(_req, room) {
        return new Response(`object room ${room.id}`);
      },
    };
    const s = await start({ main: server });
    assert.equal(await (await s.fetch("/parties/main/obj")).text(), "object room obj");
    const socket = await s.connect("/parties/main/obj?_pk=z");
    assert.equal(await socket.nextText(), "welcome to obj");
    socket.send("hey");
    assert.equal(await socket.nextText(), "z says hey");
    await assert.rejects(start({ main: { onMessage: "not a function" } }), /\.onMessage should be a function/);
  });
});

describe("dev reload", () => {
  it("closes sockets with 1012, keeps storage, and runs the new code", async () => {
    class V1 implements Party.Server {
      constructor(readonly room: Party.Room) {}
      async onRequest() {
        await this.room.storage.put("k", "stored by v1");
        return new Response("v1");
      }
    }
    class V2 implements Party.Server {
      constructor(readonly room: Party.Room) {}
      async onRequest() {
        return new Response(`v2 sees ${await this.room.storage.get("k")}`);
      }
    }
    const s = await start(V1, { memory: false });
    assert.equal(await (await s.fetch("/parties/main/r")).text(), "v1");
    const socket = await s.connect("/parties/main/r");
    await s.server.reload({ main: V2 });
    assert.equal((await socket.closed).code, 1012);
    assert.equal(await (await s.fetch("/parties/main/r")).text(), "v2 sees stored by v1");
  });
});
