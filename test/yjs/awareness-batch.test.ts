/**
 * Awareness renewals relayed in batches (src/yjs/renewal-batch.ts), with real y-partykit providers
 * and a raw observer socket that records every awareness message the server sends it: renewals of
 * many editors (and newcomers' states) arrive as one message, a change is never held, presence
 * never times out while an editor stays connected, and a held batch keeps the room awake until it
 * is relayed.
 */
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, it } from "node:test";
import * as decoding from "lib0/decoding";
import WebSocket from "ws";
import { startTestServer, type TestServer } from "../../src/testing/index.js";
import { YServer, type YServerOptions } from "../../src/yjs/index.js";
import { decodeAwarenessUpdate, type AwarenessEntry } from "../../src/yjs/awareness-store.js";
import { MESSAGE_AWARENESS } from "../../src/yjs/protocol.js";
import { partykitEditor, until, type Editor } from "./support.js";

let server: TestServer | undefined;
let editors: Editor[] = [];
let observers: WebSocket[] = [];
afterEach(async () => {
  for (const e of editors) e.destroy();
  for (const o of observers) o.terminate();
  editors = [];
  observers = [];
  await server?.close();
  server = undefined;
});

function party(options: YServerOptions) {
  return class extends YServer {
    override readonly yjsOptions = options;
  };
}

function editorsOn(port: number, room: string, count: number): Editor[] {
  const added = Array.from({ length: count }, (_, i) => {
    const e = partykitEditor(port, room);
    e.provider.awareness.setLocalState({ user: `editor ${i}`, cursor: { anchor: 0, head: 0 } });
    return e;
  });
  editors.push(...added);
  return added;
}

/** What a provider does every 15 s: the same state again, with a newer clock. */
function renew(e: Editor): void {
  e.provider.awareness.setLocalState(e.provider.awareness.getLocalState());
}

function clockOf(e: Editor): number {
  return e.provider.awareness.meta.get(e.doc.clientID)!.clock;
}

/** Every awareness message the server sends one raw socket, with when it arrived. */
interface Observer {
  messages: Array<{ at: number; entries: AwarenessEntry[] }>;
}

async function observe(port: number, room: string): Promise<Observer> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/parties/main/${room}`);
  observers.push(ws);
  const observer: Observer = { messages: [] };
  ws.on("message", (data: Buffer) => {
    const decoder = decoding.createDecoder(new Uint8Array(data));
    if (decoding.readVarUint(decoder) !== MESSAGE_AWARENESS) return;
    observer.messages.push({ at: Date.now(), entries: decodeAwarenessUpdate(decoding.readVarUint8Array(decoder)) });
  });
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  return observer;
}

/** Nothing out of order: each client's clocks only rise across everything the observer received. */
function assertClocksRise(observer: Observer): void {
  const last = new Map<number, number>();
  for (const { entries } of observer.messages) {
    for (const { clientId, clock } of entries) {
      assert.ok(clock > (last.get(clientId) ?? -1), `client ${clientId}: clock ${clock} after ${last.get(clientId)}`);
      last.set(clientId, clock);
    }
  }
}

const synced = (list: Editor[]) => list.every((e) => e.synced);

/** Whether every editor holds every other editor's current clock. */
function everyoneSees(list: Editor[]): boolean {
  return list.every((seer) => list.every((e) => seer.provider.awareness.meta.get(e.doc.clientID)?.clock === clockOf(e)));
}

describe("awareness renewals in batches", () => {
  it("renewals of many editors reach every editor as one message, newest clock per editor", async () => {
    const s = (server = await startTestServer({ parties: party({ awarenessBatchMs: 300 }), memory: true }));
    const list = editorsOn(s.port, "batched", 8);
    await until(() => synced(list) && everyoneSees(list), "8 editors to sync and see each other");
    const observer = await observe(s.port, "batched");
    await sleep(400); // the newcomer's snapshot and any echoes have come and gone
    const from = observer.messages.length;

    for (const e of list) renew(e);
    for (const e of list.slice(0, 3)) renew(e); // a second renewal of three of them, inside the window
    const expected = new Map(list.map((e) => [e.doc.clientID, clockOf(e)]));
    await until(() => everyoneSees(list), "every editor to see every renewal");
    await sleep(700); // the providers' echoes of the batch, and any batch after it

    const after = observer.messages.slice(from);
    assert.equal(after.length, 1, `one awareness message for 11 renewals of 8 editors, got ${after.length}`);
    const relayed = new Map(after[0]!.entries.map((entry) => [entry.clientId, entry.clock]));
    assert.deepEqual(relayed, expected, "each editor once, with its newest clock");
    assertClocksRise(observer);
  });

  it("newcomers' states reach the others as one message; a newcomer gets everyone's at once", async () => {
    const s = (server = await startTestServer({ parties: party({ awarenessBatchMs: 600 }), memory: true }));
    const present = editorsOn(s.port, "joins", 3);
    await until(() => synced(present) && everyoneSees(present), "the first editors to sync");
    const observer = await observe(s.port, "joins");
    await sleep(800);
    const from = observer.messages.length;

    const newcomers = editorsOn(s.port, "joins", 4);
    await until(() => synced(newcomers), "the newcomers to sync");
    await until(() => newcomers.every((n) => present.every((p) => n.provider.awareness.getStates().has(p.doc.clientID))), "each newcomer to see the others", 500);
    const all = [...present, ...newcomers];
    await until(() => everyoneSees(all), "everyone to see the newcomers");
    await sleep(900); // the echoes, and any batch after
    const after = observer.messages.slice(from);
    assert.equal(after.length, 1, `one awareness message for 4 newcomers, got ${after.length}`);
    assert.deepEqual(new Set(after[0]!.entries.map((entry) => entry.clientId)), new Set(newcomers.map((n) => n.doc.clientID)));
    assertClocksRise(observer);
  });

  it("a change goes out at once and supersedes the held renewal of its editor", async () => {
    const s = (server = await startTestServer({ parties: party({ awarenessBatchMs: 1500 }), memory: true }));
    const [a, b] = editorsOn(s.port, "changes", 2) as [Editor, Editor];
    await until(() => synced([a, b]) && everyoneSees([a, b]), "sync");
    const observer = await observe(s.port, "changes");
    await sleep(300);
    const from = observer.messages.length;

    renew(a);
    renew(b);
    const renewed = clockOf(a);
    await sleep(200);
    const movedAt = Date.now();
    a.provider.awareness.setLocalStateField("cursor", { anchor: 4, head: 9 });
    await until(() => JSON.stringify(b.provider.awareness.getStates().get(a.doc.clientID)?.cursor) === '{"anchor":4,"head":9}', "b to see a's new cursor");
    const delay = Date.now() - movedAt;
    assert.ok(delay < 500, `the change took ${delay} ms (the batch window is 1,500 ms)`);

    await sleep(1800); // past the window: the batch with b's renewal has gone out
    const after = observer.messages.slice(from);
    const aClocks = after.flatMap((m) => m.entries.filter((entry) => entry.clientId === a.doc.clientID).map((entry) => entry.clock));
    assert.deepEqual(aClocks, [renewed + 1], "a's change only: its held renewal was dropped, nothing older came after");
    const batch = after.find((m) => m.entries.some((entry) => entry.clientId === b.doc.clientID));
    assert.ok(batch && batch.at - movedAt >= 1000, "b's renewal came with the batch, after the window");
    assertClocksRise(observer);
  });

  it(
    "an editor's presence never times out at the others while it stays connected (35 s of real renewals)",
    { timeout: 60_000 },
    async () => {
      // Awake throughout (a hibernated room knows no state, and relays the next renewal as a change).
      const s = (server = await startTestServer({ parties: party({ awarenessBatchMs: 1000 }), memory: true, hibernateAfterMs: 60_000 }));
      const list = editorsOn(s.port, "presence", 4);
      await until(() => synced(list) && everyoneSees(list), "sync");
      const timedOut: string[] = [];
      for (const seer of list) {
        seer.provider.awareness.on("change", ({ removed }: { removed: number[] }, origin: unknown) => {
          if (removed.length > 0) timedOut.push(`${seer.doc.clientID} lost ${removed.join(",")} (${String(origin)})`);
        });
      }
      const firstClocks = list.map(clockOf);
      // Past y-protocols' 30 s outdated timeout: each provider renews on its own every 15 s.
      await sleep(35_000);
      assert.deepEqual(timedOut, [], "no editor lost another's presence");
      assert.ok(list.every((e, i) => clockOf(e) >= firstClocks[i]! + 2), "every provider renewed at least twice");
      for (const seer of list) assert.equal(seer.provider.awareness.getStates().size, list.length);
    },
  );

  it("a renewal that wakes a hibernated room is held too; the batch keeps the room awake until relayed", async () => {
    const s = (server = await startTestServer({ parties: party({ awarenessBatchMs: 800 }), memory: false, hibernateAfterMs: 100 }));
    const [a, b] = editorsOn(s.port, "sleepy", 2) as [Editor, Editor];
    await until(() => synced([a, b]) && everyoneSees([a, b]), "sync");
    await until(() => s.server.stats().resident === 0, "the room to hibernate", 5000);

    // The fresh instance holds no awareness state: a's connection state tells it this is a renewal.
    renew(a);
    const heldAt = Date.now();
    const held = clockOf(a);
    await sleep(500); // well past --hibernate-after, inside the window
    assert.notEqual(b.provider.awareness.meta.get(a.doc.clientID)?.clock, held, "the renewal is still held");
    assert.equal(s.server.stats().resident, 1, "the room does not hibernate with a batch held");
    await until(() => b.provider.awareness.meta.get(a.doc.clientID)?.clock === held, "the held renewal to reach b");
    assert.ok(Date.now() - heldAt >= 750, "relayed at the end of the window");
    await until(() => s.server.stats().resident === 0, "the room to hibernate after the batch", 5000);
  });
});
