/**
 * A property test of the gates against a small model of the Durable Object rules.
 *
 * fast-check generates events (WebSocket messages on one socket, HTTP requests, alarms), each a
 * small program over one room: memory increments, awaited and un-awaited puts, gets, deletes,
 * transactions, non-storage awaits (a timer, a fetch to a local server) and sends. A real server
 * runs them as they arrive; the room logs every step it takes.
 *
 * The rules, as the model holds them:
 * - a *segment* is the part of an event between two non-storage awaits: storage calls (reads
 *   that go to the engine included) never let another event in, so a segment's steps are
 *   contiguous in the log (input gate);
 * - messages from one socket start in the order they were sent;
 * - in which order segments of different events run is the environment's choice (timers,
 *   network), so the model takes it from the log, and from it alone computes every value each
 *   step must see (a serial execution of the segments) and every message each client must get;
 * - a message or response leaves only once every write before it is durable (output gate): the
 *   client checks, as it arrives, that the last write it reflects has been committed.
 */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { deserialize } from "node:v8";
import fc from "fast-check";
import type * as Party from "../types/party.js";
import { startTestServer, type TestServer } from "../testing/index.js";
import type { CommitOutcome, RoomWrite, StorageEngine } from "../storage/engine.js";
import { MemoryEngine } from "../storage/memory-engine.js";
import { SqliteEngine } from "../storage/sqlite-engine.js";
import { GroupCommitStorageService } from "../storage/service.js";
import { CountingEngine, makeTempDir, removeDir } from "../storage/test-support.js";

type Key = "a" | "b";
type Op =
  | { kind: "inc" }
  | { kind: "put" | "putUnawaited" | "get" | "delete" | "transaction"; key: Key }
  | { kind: "timer"; ms: number }
  | { kind: "fetch" }
  | { kind: "send" };
type Source = "message" | "request" | "alarm";
interface Event {
  readonly id: string;
  readonly source: Source;
  readonly ops: readonly Op[];
  /** Pause before the test sends it (messages, requests): lets arrivals overlap steps. */
  readonly delayMs: number;
}
/** One step as the room took it: `value` is what the step saw or wrote (the register x). */
interface Step {
  readonly event: string;
  readonly segment: number;
  readonly op: string;
  readonly value: number;
  /** Id of the room's last write when the step ran (sends carry it to the client). */
  readonly lastWrite: number;
}

// ---- what the room runs ------------------------------------------------------------------------

const programs = new Map<string, Event>();
const alarmQueues = new Map<string, Event[]>();
const log = new Map<string, Step[]>();
let fetchTarget = "";

/**
 * The newest write id committed, as the engine reports commits: `w` carries the id of the last
 * write of each batch, ids only grow, and commits are atomic and in order, so every write up to
 * it is durable.
 */
class CommitLedger extends CountingEngine {
  committedUpTo = 0;
  override async commit(writes: readonly RoomWrite[]): Promise<CommitOutcome> {
    const outcome = await super.commit(writes);
    for (const write of writes) {
      const marker = write.entries.get("w");
      if (marker) this.committedUpTo = Math.max(this.committedUpTo, deserialize(marker) as number);
    }
    return outcome;
  }
}

class ModelRoom implements Party.Server {
  x = 0;
  lastWrite = 0;
  private static writes = 0;
  constructor(readonly room: Party.Room) {}

  async onStart() {
    const first = alarmQueues.get(this.room.id)?.[0];
    if (first) await this.room.storage.setAlarm(Date.now() + 1);
  }

  async onMessage(message: string | ArrayBuffer, connection: Party.Connection) {
    await this.run(String(message), (text) => connection.send(text));
  }

  async onRequest(request: Party.Request) {
    const sent: string[] = [];
    await this.run(new URL(request.url).searchParams.get("event")!, (text) => sent.push(text));
    return new Response(sent.join("\n"));
  }

  async onAlarm() {
    const next = alarmQueues.get(this.room.id)!.shift()!;
    await this.run(next.id, (text) => this.room.broadcast(text));
    if (alarmQueues.get(this.room.id)!.length > 0) await this.room.storage.setAlarm(Date.now() + 1);
  }

  private async run(eventId: string, send: (text: string) => void) {
    const event = programs.get(eventId)!;
    const storage = this.room.storage;
    let segment = 0;
    const step = (op: string) => {
      (log.get(this.room.id) ?? log.set(this.room.id, []).get(this.room.id)!).push({
        event: eventId,
        segment,
        op,
        value: this.x,
        lastWrite: this.lastWrite,
      });
    };
    /** Every write also records its id under `w`, in the same batch, for the output check. */
    const marked = () => {
      this.lastWrite = ++ModelRoom.writes;
      void storage.put("w", this.lastWrite);
    };
    step("start");
    for (const op of event.ops) {
      switch (op.kind) {
        case "inc":
          this.x++;
          break;
        case "put":
          await storage.put(op.key, this.x);
          marked();
          break;
        case "putUnawaited":
          void storage.put(op.key, this.x);
          marked();
          break;
        case "get":
          this.x = (await storage.get<number>(op.key)) ?? 0;
          break;
        case "delete":
          await storage.delete(op.key);
          marked();
          break;
        case "transaction":
          this.x = await storage.transaction(async (txn) => {
            const next = ((await txn.get<number>(op.key)) ?? 0) + 1;
            await txn.put(op.key, next);
            return next;
          });
          marked();
          break;
        case "timer":
          await sleep(op.ms);
          segment++;
          step("start");
          continue;
        case "fetch":
          await (await fetch(fetchTarget)).text();
          segment++;
          step("start");
          continue;
        case "send":
          send(`${eventId}:${this.x}:${this.lastWrite}`);
          break;
      }
      step(op.kind === "inc" || op.kind === "send" ? op.kind : `${op.kind} ${op.key}`);
    }
  }
}

// ---- the model ---------------------------------------------------------------------------------

/**
 * Checks the log against the rules and returns what each event must have sent, in order.
 * Throws (an assertion) at the first step the rules do not allow.
 */
function replay(steps: readonly Step[], events: readonly Event[]): Map<string, string[]> {
  const byId = new Map(events.map((event) => [event.id, event]));
  // Input gate: each segment's steps are contiguous.
  const finished = new Set<string>();
  for (let i = 0; i < steps.length; i++) {
    const current = `${steps[i]!.event}/${steps[i]!.segment}`;
    const previous = i > 0 ? `${steps[i - 1]!.event}/${steps[i - 1]!.segment}` : undefined;
    if (previous !== undefined && previous !== current) finished.add(previous);
    assert.ok(!finished.has(current), `step ${i} (${steps[i]!.op} of ${current}) ran after another event had run inside its segment`);
  }
  // Messages of one socket start in the order they were sent.
  const messageStarts = steps.filter((s) => s.op === "start" && s.segment === 0 && byId.get(s.event)!.source === "message");
  const sentOrder = events.filter((event) => event.source === "message").map((event) => event.id);
  assert.deepEqual(messageStarts.map((s) => s.event), sentOrder, "messages of one socket start in send order");

  // A serial execution of the segments in the logged order: every value follows.
  const storage = new Map<Key, number>();
  let x = 0;
  const sends = new Map<string, string[]>();
  const cursor = new Map<string, number>();
  let lastWrite = 0;
  for (const step of steps) {
    if (step.op === "start") continue;
    const event = byId.get(step.event)!;
    let index = cursor.get(step.event) ?? 0;
    while (event.ops[index]!.kind === "timer" || event.ops[index]!.kind === "fetch") index++;
    const op = event.ops[index]!;
    cursor.set(step.event, index + 1);
    switch (op.kind) {
      case "inc":
        x++;
        break;
      case "put":
      case "putUnawaited":
        storage.set(op.key, x);
        break;
      case "get":
        x = storage.get(op.key) ?? 0;
        break;
      case "delete":
        storage.delete(op.key);
        break;
      case "transaction":
        x = (storage.get(op.key) ?? 0) + 1;
        storage.set(op.key, x);
        break;
      case "send":
        (sends.get(step.event) ?? sends.set(step.event, []).get(step.event)!).push(`${step.event}:${x}:${step.lastWrite}`);
        break;
      default:
        throw new Error(`unexpected ${op.kind}`);
    }
    if (op.kind === "put" || op.kind === "putUnawaited" || op.kind === "delete" || op.kind === "transaction") {
      assert.ok(step.lastWrite > lastWrite, `${step.op} of ${step.event}: writes out of order`);
      lastWrite = step.lastWrite;
    }
    assert.equal(step.value, x, `${step.op} of ${step.event}: the room saw ${step.value}, the rules give ${x}`);
    assert.equal(step.lastWrite, lastWrite, `${step.op} of ${step.event}: writes out of order`);
  }
  for (const event of events) {
    const logged = steps.filter((step) => step.event === event.id && step.op !== "start").length;
    assert.equal(logged, event.ops.filter((o) => o.kind !== "timer" && o.kind !== "fetch").length, `${event.id} ran every step`);
  }
  return sends;
}

// ---- generators --------------------------------------------------------------------------------

const key = fc.constantFrom<Key>("a", "b");
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Op>({ kind: "inc" }) },
  { weight: 3, arbitrary: key.map<Op>((k) => ({ kind: "put", key: k })) },
  { weight: 2, arbitrary: key.map<Op>((k) => ({ kind: "putUnawaited", key: k })) },
  { weight: 3, arbitrary: key.map<Op>((k) => ({ kind: "get", key: k })) },
  { weight: 1, arbitrary: key.map<Op>((k) => ({ kind: "delete", key: k })) },
  { weight: 1, arbitrary: key.map<Op>((k) => ({ kind: "transaction", key: k })) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }).map<Op>((ms) => ({ kind: "timer", ms })) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: "fetch" }) },
  { weight: 2, arbitrary: fc.constant<Op>({ kind: "send" }) },
);
const eventShape = fc.record({
  source: fc.constantFrom<Source>("message", "message", "request", "alarm"),
  // Every program ends with a send, so each event is observed.
  ops: fc.array(op, { minLength: 1, maxLength: 7 }).map((ops) => [...ops, { kind: "send" } as Op]),
  delayMs: fc.constantFrom(0, 0, 0, 1, 2),
});

// ---- running one schedule ------------------------------------------------------------------------

let runs = 0;

/** Sends the events to a fresh room and returns what each client received, checked as it arrived. */
async function runEvents(server: TestServer, ledger: CommitLedger, shapes: ReadonlyArray<Omit<Event, "id">>) {
  const room = `run${++runs}`;
  const events: Event[] = shapes.map((shape, i) => ({ ...shape, id: `${room}e${i}` }));
  for (const event of events) programs.set(event.id, event);
  alarmQueues.set(room, events.filter((event) => event.source === "alarm"));
  const lateOutput: string[] = [];
  const checkDurable = (text: string) => {
    const lastWrite = Number(text.split(":")[2]);
    if (lastWrite > ledger.committedUpTo) lateOutput.push(text);
  };

  const socket = await server.connect(`/parties/main/${room}?_pk=client`);
  const expectedOnSocket = events
    .filter((event) => event.source !== "request")
    .reduce((sum, event) => sum + event.ops.filter((o) => o.kind === "send").length, 0);
  const received: string[] = [];
  const allReceived = (async () => {
    while (received.length < expectedOnSocket) {
      const text = await socket.nextText(10_000);
      checkDurable(text);
      received.push(text);
    }
  })();
  const responses = new Map<string, string[]>();
  const requests: Array<Promise<void>> = [];
  for (const event of events) {
    if (event.delayMs > 0) await sleep(event.delayMs);
    if (event.source === "message") socket.send(event.id);
    if (event.source === "request") {
      requests.push(
        server.fetch(`/parties/main/${room}?event=${event.id}`, { method: "POST" }).then(async (response) => {
          const body = await response.text();
          for (const line of body.split("\n")) checkDurable(line);
          responses.set(event.id, body.split("\n"));
        }),
      );
    }
  }
  await Promise.all([allReceived, ...requests]);
  socket.terminate();
  return { events, steps: log.get(room) ?? [], received, responses, lateOutput };
}

function check(result: Awaited<ReturnType<typeof runEvents>>): void {
  const { events, steps, received, responses, lateOutput } = result;
  assert.deepEqual(lateOutput, [], "output left before the writes it reflects were durable");
  const sends = replay(steps, events);
  // The socket gets the sends of messages and alarms in the order the room made them.
  const socketEvents = new Set(events.filter((event) => event.source !== "request").map((event) => event.id));
  const inOrder = steps
    .filter((step) => step.op === "send" && socketEvents.has(step.event))
    .map((step) => `${step.event}:${step.value}:${step.lastWrite}`);
  assert.deepEqual(received, inOrder, "what the socket received");
  for (const event of events) {
    const expected = sends.get(event.id) ?? [];
    if (event.source === "request") assert.deepEqual(responses.get(event.id), expected, `response of ${event.id}`);
    else assert.deepEqual(received.filter((text) => text.startsWith(`${event.id}:`)), expected, `sends of ${event.id}`);
  }
}

/** The same room with the hibernation API (its sockets go through the hibernating path). */
class HibernatingModelRoom extends ModelRoom {
  readonly options = { hibernate: true };
}

for (const [kind, hibernate] of [["memory", false], ["memory", true], ["sqlite", false], ["sqlite", true]] as const) {
  describe(`the gates against the Durable Object model (${kind}, ${hibernate ? "hibernating" : "non-hibernating"})`, () => {
    let server: TestServer;
    let ledger: CommitLedger;
    let target: Server;
    let dir: string | undefined;
    before(async () => {
      target = createServer((_req, res) => setTimeout(() => res.end("ok"), Math.random() * 3));
      await new Promise<void>((resolve) => target.listen(0, "127.0.0.1", resolve));
      fetchTarget = `http://127.0.0.1:${(target.address() as AddressInfo).port}/`;
      dir = kind === "sqlite" ? makeTempDir() : undefined;
      const engine: StorageEngine = dir ? SqliteEngine.open({ dir, durability: "normal" }) : new MemoryEngine();
      ledger = new CommitLedger(engine);
      const parties = hibernate ? HibernatingModelRoom : ModelRoom;
      server = await startTestServer({ parties, storage: new GroupCommitStorageService(ledger) });
    });
    after(async () => {
      await server.close();
      target.close();
      if (dir) removeDir(dir);
    });

    it("every run is one the rules allow, and every client sees what the model computes", { timeout: 120_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(eventShape, { minLength: 1, maxLength: 12 }), async (shapes) => {
          check(await runEvents(server, ledger, shapes));
        }),
        { numRuns: kind === "memory" ? 60 : 30, includeErrorInReport: true },
      );
    });
  });
}
