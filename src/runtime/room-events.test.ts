import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, it } from "node:test";
import type { ServerInstance } from "./party-definition.js";
import { RoomEvents } from "./room-events.js";

/** A server instance whose onStart is whatever the test says. */
function instance(onStart: () => unknown): ServerInstance {
  const none = () => undefined;
  return {
    hibernate: false,
    has: () => true,
    onStart,
    onConnect: none,
    onMessage: none,
    onClose: none,
    onError: none,
    onRequest: none,
    onAlarm: none,
    getConnectionTags: () => [],
  };
}

describe("RoomEvents", () => {
  it("starts events in arrival order while onStart and storage calls hold the gate", async () => {
    const order: string[] = [];
    const events = new RoomEvents(() => instance(() => sleep(30).then(() => order.push("started"))));
    const done = [
      events.run(() => order.push("a")),
      events.run(() => order.push("b")),
    ];
    events.input.close(); // as a storage call would
    const late = events.run(() => order.push("c"));
    setTimeout(() => events.input.open(), 60);
    await Promise.all([...done, late]);
    assert.deepEqual(order, ["started", "a", "b", "c"]);
  });

  it("lets the code awaiting a storage call continue before the next event starts", async () => {
    const order: string[] = [];
    const events = new RoomEvents(() => instance(() => undefined));
    await events.run(async () => {
      events.input.close();
      const storageCall = sleep(10).then(() => events.input.open());
      void events.run(() => order.push("next event"));
      await storageCall;
      await Promise.resolve(); // a few more promise hops, still no other I/O
      await Promise.resolve();
      order.push("continuation");
    });
    await sleep(20);
    assert.deepEqual(order, ["continuation", "next event"]);
  });

  it("rejects the events that waited for a failed onStart and retries it with a fresh instance", async () => {
    let builds = 0;
    const events = new RoomEvents(() => {
      builds++;
      return instance(() => (builds === 1 ? Promise.reject(new Error("no start")) : undefined));
    });
    await assert.rejects(events.run(() => "x"), /no start/);
    assert.equal(await events.run(() => "y"), "y");
    assert.equal(builds, 2);
  });

  it("holds events during blockConcurrencyWhile and reports idleness only when nothing runs", async () => {
    const events = new RoomEvents(() => instance(() => undefined));
    await events.run(() => undefined);
    let inside = false;
    const blocked = events.blockConcurrencyWhile(async () => {
      inside = true;
      await sleep(30);
      inside = false;
    });
    const seen = await events.run(() => inside);
    await blocked;
    assert.equal(seen, false, "the event waited for the block to end");
    assert.equal(events.isIdleFor(0, Date.now() + 1), true);
    let release: (() => void) | undefined;
    const running = events.run(() => new Promise<void>((resolve) => (release = resolve)));
    assert.equal(events.isIdleFor(0, Date.now() + 1), false, "an event waits to start");
    await sleep(1);
    assert.ok(release !== undefined, "the event started once the turn that opened the gate was over");
    assert.equal(events.isIdleFor(0, Date.now() + 1), false, "an event is still running");
    release();
    await running;
  });

  it("events started in one synchronous loop run one at a time through their settled awaits", async () => {
    // `ws` emits every frame of one TCP chunk synchronously; each handler must still run its
    // read-modify-write (awaits of settled promises) before the next one starts.
    const events = new RoomEvents(() => instance(() => undefined));
    await events.run(() => undefined);
    let value = 0;
    const seen: number[] = [];
    const handler = async () => {
      value++;
      await Promise.resolve(); // an awaited put: settled at once
      await Promise.resolve();
      seen.push(value);
    };
    const running = [1, 2, 3, 4, 5].map(() => events.run(handler));
    await Promise.all(running);
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);
  });

  it("events that waited at the gate start one at a time, each after the previous one's continuation", async () => {
    // The lost-increment bug: a queue drained in one loop let every handler read before any wrote.
    const events = new RoomEvents(() => instance(() => sleep(20)));
    let stored = 0;
    const increment = async () => {
      const n = (await Promise.resolve(stored)) + 1; // a get served from memory
      await Promise.resolve((stored = n)); // a put applied to memory
      return n;
    };
    const acknowledged = await Promise.all(Array.from({ length: 20 }, () => events.run(increment)));
    assert.deepEqual(acknowledged, Array.from({ length: 20 }, (_, i) => i + 1));
    assert.equal(stored, 20);
  });

  it("an event awaiting real I/O lets the next event in", async () => {
    const events = new RoomEvents(() => instance(() => undefined));
    await events.run(() => undefined);
    const order: string[] = [];
    const first = events.run(async () => {
      order.push("first starts");
      await sleep(10);
      order.push("first ends");
    });
    const second = events.run(() => order.push("second"));
    await Promise.all([first, second]);
    assert.deepEqual(order, ["first starts", "second", "first ends"]);
  });

  it("dispatch reports a failing handler and never throws to its caller", async () => {
    const failures: unknown[] = [];
    const events = new RoomEvents(() => instance(() => undefined));
    events.dispatch(() => {
      throw new Error("sync failure");
    }, (error) => failures.push(error));
    events.dispatch(() => Promise.reject(new Error("async failure")), (error) => failures.push(error));
    await sleep(5);
    assert.deepEqual(failures.map((e) => (e as Error).message), ["sync failure", "async failure"]);
  });
});
