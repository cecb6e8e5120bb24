/**
 * The Durable Object rules that real apps compute with, through real servers and sockets, on
 * every engine (memory, SQLite, PostgreSQL), for hibernating and non-hibernating rooms:
 * - an event runs until it awaits something that is not storage; a write's `await` is not such
 *   a point, so `value++; await put(); broadcast(value)` never interleaves with another event;
 * - events that waited at the input gate (behind onStart, a claim, an engine read) start one at
 *   a time, so read-modify-write sequences lose no acknowledged increment;
 * - what follows a write (a reply, a broadcast, a response, a call to another room) leaves only
 *   once that write is durable.
 * Each of these failed before the input gate ran events one turn at a time and `put()` settled
 * at cache time (issue 18).
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type * as Party from "../types/party.js";
import { startTestServer, type TestServer, type TestServerOptions, type TestSocket } from "../testing/index.js";
import { GroupCommitStorageService } from "../storage/service.js";
import type { RoomWrite, StorageEngine } from "../storage/engine.js";
import { MemoryEngine } from "../storage/memory-engine.js";
import { CountingEngine, ENGINE_KINDS, type EngineKind } from "../storage/test-support.js";
import { createTestDatabase, type TestDatabase } from "../cluster/test-support.js";
import { openPostgresEngine } from "../cluster/engine-test-support.js";
import { counterParty } from "./fixtures/counter-party.js";

/** A server on a fresh store of the given kind (PostgreSQL: a database of its own). */
async function serverOn(kind: EngineKind, parties: TestServerOptions["parties"]): Promise<TestServer> {
  const base = { parties };
  if (kind === "memory") return startTestServer({ ...base, memory: true });
  if (kind === "sqlite") return startTestServer(base);
  const database = await createTestDatabase();
  databases.push(database);
  const { engine, stop } = await openPostgresEngine(database.url);
  stops.push(stop);
  return startTestServer({ ...base, storage: new GroupCommitStorageService(engine satisfies StorageEngine) });
}

const databases: TestDatabase[] = [];
const stops: Array<() => Promise<void>> = [];
after(async () => {
  for (const stop of stops) await stop();
  for (const database of databases) await database.drop();
});

/** Every text message the socket receives until `count` have arrived (or the deadline). */
async function texts(socket: TestSocket, count: number): Promise<string[]> {
  const seen: string[] = [];
  while (seen.length < count) seen.push(await socket.nextText());
  return seen;
}

const numbers = (messages: string[]) => messages.map((message) => Number(message.split(":")[1]));
const oneToN = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

for (const kind of ENGINE_KINDS) {
  for (const hibernate of [false, true]) {
    describe(`Durable Object ordering on ${kind}, ${hibernate ? "hibernating" : "non-hibernating"} rooms`, () => {
      it("20 concurrent read-modify-write requests behind a slow onStart acknowledge 1…20 and store 20", async () => {
        const server = await serverOn(kind, counterParty(hibernate));
        try {
          const answers = await Promise.all(
            Array.from({ length: 20 }, () => server.fetch("/parties/main/rmw/count", { method: "POST" }).then((r) => r.text())),
          );
          assert.deepEqual(answers.map(Number).sort((a, b) => a - b), oneToN(20));
          const state = (await (await server.fetch("/parties/main/rmw")).json()) as { count: number };
          assert.equal(state.count, 20);
        } finally {
          await server.close();
        }
      });

      it("value++; await put(); broadcast: five messages at once from one client are broadcast 1…5", async () => {
        const server = await serverOn(kind, counterParty(hibernate));
        try {
          const socket = await server.connect("/parties/main/burst?_pk=a");
          // One send loop: the frames leave in one TCP write and arrive in one chunk.
          for (let i = 0; i < 5; i++) socket.send("m");
          assert.deepEqual(numbers(await texts(socket, 5)), oneToN(5));
        } finally {
          await server.close();
        }
      });

      it("value++; await put(); broadcast: one message each from five clients at once, every client sees 1…5", async () => {
        const server = await serverOn(kind, counterParty(hibernate));
        try {
          const sockets = await Promise.all([1, 2, 3, 4, 5].map((i) => server.connect(`/parties/main/five?_pk=c${i}`)));
          for (const socket of sockets) socket.send("m");
          for (const socket of sockets) assert.deepEqual(numbers(await texts(socket, 5)), oneToN(5));
        } finally {
          await server.close();
        }
      });

      it("HTTP requests, WebSocket messages and alarms that arrive while a write is awaited never share a value", async () => {
        const server = await serverOn(kind, counterParty(hibernate));
        try {
          const observer = await server.connect("/parties/main/mixed?_pk=observer");
          const alarms = 20;
          assert.equal(await (await server.fetch(`/parties/main/mixed/alarms?n=${alarms}`, { method: "POST" })).text(), "armed");
          const writer = await server.connect("/parties/main/mixed?_pk=writer");
          const requests: Array<Promise<number>> = [];
          // Spread over the alarms' ~2 ms cadence, so events of all three kinds overlap writes.
          for (let i = 0; i < 40; i++) {
            writer.send("ws");
            requests.push(server.fetch("/parties/main/mixed/value", { method: "POST" }).then(async (r) => Number(await r.text())));
            await sleep(1);
          }
          const total = 40 + 40 + alarms;
          const seen = await texts(observer, total);
          assert.deepEqual(numbers(seen), oneToN(total), "every event saw its own increment, in broadcast order");
          assert.equal(seen.filter((message) => message.startsWith("alarm:")).length, alarms);
          const acknowledged = (await Promise.all(requests)).sort((a, b) => a - b);
          assert.equal(new Set(acknowledged).size, 40, "no two responses carry the same value");
        } finally {
          await server.close();
        }
      });
    });
  }
}

describe("send() and broadcast() of values that are not strings or bytes", () => {
  it("sends their WebIDL string, as workerd does", async () => {
    class Converter implements Party.Server {
      constructor(readonly room: Party.Room) {}
      onConnect(connection: Party.Connection) {
        const send = connection.send.bind(connection) as (value: unknown) => void;
        for (const value of [42, true, null, { a: 1 }, [1, 2], undefined]) send(value);
        (this.room.broadcast as (value: unknown) => void)(7);
      }
    }
    const server = await startTestServer({ parties: Converter, memory: true });
    try {
      const socket = await server.connect("/parties/main/c?_pk=a");
      assert.deepEqual(await texts(socket, 7), ["42", "true", "null", "[object Object]", "1,2", "undefined", "7"]);
      const state = await Promise.race([socket.closed.then(() => "closed"), sleep(50).then(() => "open")]);
      assert.equal(state, "open", "nothing threw: the socket stays open");
    } finally {
      await server.close();
    }
  });
});

describe("the output gate, now that put() settles before the write is durable", () => {
  /** Commits take 30 ms, so output that does not wait for them would overtake them. */
  class SlowCommits extends CountingEngine {
    override async commit(writes: readonly RoomWrite[]) {
      await sleep(30);
      return super.commit(writes);
    }
  }
  const durableKeys = async (engine: StorageEngine, room: string) =>
    [...(await engine.get({ party: "main", room }, ["k", "m"])).keys()];

  class Writer implements Party.Server {
    static peeks = 0;
    constructor(readonly room: Party.Room) {}
    async onRequest(request: Party.Request) {
      const engine = this.room.env.engine as StorageEngine;
      if (this.room.id === "peer") {
        Writer.peeks++;
        return Response.json(await durableKeys(engine, "writer"));
      }
      await this.room.storage.put("k", new URL(request.url).searchParams.get("v"));
      const peer = await this.room.context.parties.main!.get("peer").fetch("/");
      return new Response(await peer.text());
    }
    async onMessage() {
      await this.room.storage.put("m", 1);
      this.room.broadcast("after the write");
    }
  }

  it("a response, a broadcast and a call to another room leave only once the write before them is durable", async () => {
    const engine = new SlowCommits(new MemoryEngine());
    const server = await startTestServer({ parties: Writer, storage: new GroupCommitStorageService(engine), env: { engine } });
    try {
      const response = await server.fetch("/parties/main/writer?v=1", { method: "POST" });
      assert.deepEqual(await durableKeys(engine.inner, "writer"), ["k"], "durable when the response arrived");
      assert.deepEqual(await response.json(), ["k"], "durable when the call to the other room arrived");
      const socket = await server.connect("/parties/main/writer?_pk=a");
      socket.send("go");
      assert.equal(await socket.nextText(), "after the write");
      assert.deepEqual(await durableKeys(engine.inner, "writer"), ["k", "m"], "durable when the broadcast arrived");
    } finally {
      await server.close();
    }
  });

  it("when the commit fails, neither the response nor the call to another room leaves", async () => {
    const engine = new SlowCommits(new MemoryEngine());
    const server = await startTestServer({ parties: Writer, storage: new GroupCommitStorageService(engine), env: { engine } });
    try {
      Writer.peeks = 0;
      engine.failNext = new Error("disk on fire");
      const response = await server.fetch("/parties/main/writer?v=lost", { method: "POST" });
      assert.equal(response.status, 500);
      assert.equal(Writer.peeks, 0, "the other room never heard of the lost write");
      assert.deepEqual(await durableKeys(engine.inner, "writer"), []);
    } finally {
      await server.close();
    }
  });
});
