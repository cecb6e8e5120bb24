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
    let release!: () => void;
    const running = events.run(() => new Promise<void>((resolve) => (release = resolve)));
    assert.equal(events.isIdleFor(0, Date.now() + 1), false, "an event is still running");
    release();
    await running;
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
