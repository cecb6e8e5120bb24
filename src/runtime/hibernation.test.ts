import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, it } from "node:test";
import type * as Party from "../types/party.js";
import type { LogLevel } from "./logger.js";
import { startTestServer, type TestServer } from "../testing/index.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Waits until `check` holds, polling; fails after `ms`. */
async function eventually(check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await sleep(10);
  }
}

/** Counts its constructor runs in storage, so eviction is visible from outside. */
class Sleeper implements Party.Server {
  readonly options = { hibernate: true };
  memory = "fresh";
  constructor(readonly room: Party.Room) {}
  async onStart() {
    const runs = ((await this.room.storage.get<number>("constructed")) ?? 0) + 1;
    await this.room.storage.put("constructed", runs);
  }
  getConnectionTags(connection: Party.Connection) {
    return [new URL(connection.uri).searchParams.get("team") ?? "none"];
  }
  async onMessage(message: string | ArrayBuffer, sender: Party.Connection<{ name: string }>) {
    const text = String(message);
    if (text.startsWith("name:")) {
      sender.setState({ name: text.slice(5) });
      sender.send("named");
      return;
    }
    if (text === "poke") this.memory = "poked";
    const runs = await this.room.storage.get<number>("constructed");
    const team = [...this.room.getConnections("red")].map((c) => c.id);
    sender.send(JSON.stringify({ runs, state: sender.state, uri: sender.uri, red: team, memory: this.memory }));
  }
}

describe("hibernation", () => {
  it("drops an idle instance, keeps sockets, and rebuilds it with state, tags and uri intact", async () => {
    const s = (server = await startTestServer({ parties: Sleeper, memory: true, hibernateAfterMs: 100 }));
    const socket = await s.connect("/parties/main/h?_pk=alice&team=red");
    socket.send("name:Alice");
    assert.equal(await socket.nextText(), "named");
    socket.send("poke");
    const before = JSON.parse(await socket.nextText()) as Record<string, unknown>;
    assert.equal(before.runs, 1);
    assert.equal(before.memory, "poked");

    await eventually(() => s.server.stats().resident === 0);
    assert.equal(s.server.stats().sockets, 1, "the socket stays open while the room hibernates");

    socket.send("status");
    const after = JSON.parse(await socket.nextText()) as Record<string, unknown>;
    assert.equal(after.runs, 2, "constructor and onStart ran again on wake");
    assert.equal(after.memory, "fresh", "instance fields are gone after hibernation");
    assert.deepEqual(after.state, { name: "Alice" });
    assert.equal(after.uri, `${s.url}/parties/main/h?_pk=alice&team=red`, "uri is the upgrade request URL, as ctx.request.url");
    assert.deepEqual(after.red, ["alice"]);
  });

  it("delivers messages that arrive during a wake in arrival order, none lost", async () => {
    class SlowWake implements Party.Server {
      readonly options = { hibernate: true };
      constructor(readonly room: Party.Room) {}
      async onStart() {
        await sleep(50);
      }
      onMessage(message: string | ArrayBuffer) {
        this.room.broadcast(`echo ${String(message)}`);
      }
    }
    const s = (server = await startTestServer({ parties: SlowWake, memory: true, hibernateAfterMs: 50 }));
    const socket = await s.connect("/parties/main/w");
    socket.send("warm");
    assert.equal(await socket.nextText(), "echo warm");
    await eventually(() => s.server.stats().resident === 0);
    for (let i = 0; i < 50; i++) socket.send(String(i));
    const received: string[] = [];
    for (let i = 0; i < 50; i++) received.push(await socket.nextText());
    assert.deepEqual(received, Array.from({ length: 50 }, (_, i) => `echo ${i}`));
  });

  it("wakes on close too, running onStart before onClose", async () => {
    const events: string[] = [];
    class CloseWake implements Party.Server {
      readonly options = { hibernate: true };
      onStart() {
        events.push("start");
      }
      onClose(connection: Party.Connection) {
        events.push(`close ${connection.id}`);
      }
    }
    const s = (server = await startTestServer({ parties: CloseWake, memory: true, hibernateAfterMs: 50 }));
    const socket = await s.connect("/parties/main/c?_pk=bob");
    await eventually(() => s.server.stats().resident === 0);
    await socket.close();
    await eventually(() => events.length === 3);
    assert.deepEqual(events, ["start", "start", "close bob"]);
  });

  it("limits hibernating state to 2048 bytes including id and uri, with PartyKit's message", async () => {
    class Limited implements Party.Server {
      readonly options = { hibernate: true };
      onMessage(message: string | ArrayBuffer, sender: Party.Connection) {
        try {
          sender.setState({ blob: "x".repeat(Number(message)) });
          sender.send("ok");
        } catch (error) {
          sender.send((error as Error).message);
        }
      }
    }
    const s = (server = await startTestServer({ parties: Limited, memory: true }));
    const socket = await s.connect("/parties/main/l?_pk=p");
    socket.send("1000");
    assert.equal(await socket.nextText(), "ok");
    socket.send("2100");
    assert.match(await socket.nextText(), /^A WebSocket 'attachment' cannot be larger than 2048 bytes\.'attachment' was \d+ bytes\.$/);
    const longUri = await s.connect(`/parties/main/l?_pk=q&pad=${"y".repeat(1500)}`);
    longUri.send("700");
    assert.match(await longUri.nextText(), /cannot be larger than 2048 bytes/);
  });

  it("gives back the same state object until the room hibernates, as PartyKit's attachment cache does", async () => {
    class Mutating implements Party.Server {
      readonly options = { hibernate: true };
      onMessage(message: string | ArrayBuffer, sender: Party.Connection<{ n: number }>) {
        if (message === "set") sender.setState({ n: 1 });
        // Docs say to call setState; mutating works only while the instance lives.
        if (message === "mutate") (sender.state as { n: number }).n = 2;
        sender.send(JSON.stringify(sender.state));
      }
    }
    const s = (server = await startTestServer({ parties: Mutating, memory: true, hibernateAfterMs: 50 }));
    const socket = await s.connect("/parties/main/m?_pk=a");
    socket.send("set");
    assert.equal(await socket.nextText(), '{"n":1}');
    socket.send("mutate");
    assert.equal(await socket.nextText(), '{"n":2}');
    await eventually(() => s.server.stats().resident === 0);
    socket.send("read");
    assert.equal(await socket.nextText(), '{"n":1}', "only what setState stored survives hibernation");
  });

  it("never hibernates a room without the option while it has sockets", async () => {
    class Awake implements Party.Server {
      memory = 0;
      onMessage(_message: string | ArrayBuffer, sender: Party.Connection) {
        sender.send(String(++this.memory));
      }
    }
    const s = (server = await startTestServer({ parties: Awake, memory: true, hibernateAfterMs: 30, evictAfterMs: 30 }));
    const socket = await s.connect("/parties/main/a");
    socket.send("x");
    assert.equal(await socket.nextText(), "1");
    await sleep(200);
    assert.equal(s.server.stats().resident, 1);
    socket.send("x");
    assert.equal(await socket.nextText(), "2", "in-memory fields survive while connected");
  });

  it("applies PartyKit's object-API rule: onMessage means hibernate", async () => {
    let starts = 0;
    const hibernating: Party.PartyKitServer = {
      onMessage(message, connection) {
        starts++;
        connection.send(String(message));
      },
    };
    const s = (server = await startTestServer({ parties: { main: hibernating }, memory: true, hibernateAfterMs: 50 }));
    const socket = await s.connect("/parties/main/o");
    socket.send("a");
    assert.equal(await socket.nextText(), "a");
    await eventually(() => s.server.stats().resident === 0);
    socket.send("b");
    assert.equal(await socket.nextText(), "b");
    assert.equal(starts, 2);
  });

  it("warns once per room when a hibernating room adds connection listeners", async () => {
    const warnings: string[] = [];
    class Listens implements Party.Server {
      readonly options = { hibernate: true };
      onConnect(connection: Party.Connection) {
        connection.addEventListener("message", () => {});
        connection.addEventListener("close", () => {});
      }
    }
    const s = (server = await startTestServer({
      parties: Listens,
      memory: true,
      logger: { log: (level: LogLevel, event: string) => void (level === "warn" && warnings.push(event)) },
    }));
    await s.connect("/parties/main/x");
    await s.connect("/parties/main/x");
    assert.equal(warnings.filter((w) => w.includes("listener")).length, 1);
  });
});

describe("eviction", () => {
  it("forgets idle rooms without sockets, keeping their storage", async () => {
    let constructed = 0;
    class Counter implements Party.Server {
      constructor(readonly room: Party.Room) {
        constructed++;
      }
      async onRequest() {
        const hits = ((await this.room.storage.get<number>("hits")) ?? 0) + 1;
        await this.room.storage.put("hits", hits);
        return new Response(String(hits));
      }
    }
    const s = (server = await startTestServer({ parties: Counter, memory: true, evictAfterMs: 50 }));
    for (let i = 0; i < 200; i++) await s.fetch(`/parties/main/room-${i}`);
    assert.ok(s.server.stats().rooms > 0);
    await eventually(() => s.server.stats().rooms === 0);
    assert.equal(await (await s.fetch("/parties/main/room-7")).text(), "2", "storage outlives eviction");
    assert.equal(constructed, 201);
  });
});
