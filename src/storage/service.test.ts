import { describe, test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { FencedError } from "./engine.js";
import { UNFLUSHED_LIMITS } from "./room-storage.js";
import { ENGINE_KINDS, Harness, RecordingHooks, isDurable, nextMacrotask } from "./test-support.js";

for (const kind of ENGINE_KINDS) {
  describe(`group commit on the ${kind} engine`, () => {
    let harness: Harness;
    afterEach(async () => harness.dispose());

    test("un-awaited writes of one turn land in one engine commit, across rooms", async () => {
      harness = await Harness.create(kind);
      const a = harness.room("a");
      const b = harness.room("b");
      const writes = [a.put("x", 1), a.put({ y: 2, z: 3 }), a.delete("z"), b.put("x", 10), a.setAlarm(5_000_000_000_000)];
      await Promise.all(writes);
      await Promise.all([a.sync(), b.sync()]);
      assert.equal(harness.engine.commits.length, 1);
      const [commit] = harness.engine.commits;
      assert.equal(commit!.length, 2, "one RoomWrite per room");
      const writeOfA = commit!.find((write) => write.room.room === "a")!;
      assert.deepEqual([...writeOfA.entries.keys()].sort(), ["x", "y", "z"]);
      assert.equal(writeOfA.entries.get("z"), null);
      assert.equal(writeOfA.alarm, 5_000_000_000_000);
    });

    test("await put() resolves once the write is in memory; sync() and the output gate wait for the commit", async () => {
      harness = await Harness.create(kind);
      const storage = harness.room();
      await storage.put("k", 1);
      assert.equal(harness.engine.commits.length, 0, "put() resolved within the turn, before any commit");
      assert.equal(await storage.get("k"), 1);
      const durable = storage.whenDurable();
      assert.ok(durable instanceof Promise, "output must wait");
      await storage.sync();
      assert.equal(harness.engine.commits.length, 1);
      const stored = await harness.engine.inner.get(storage.ref, ["k"]);
      assert.ok(stored.has("k"), "the engine has the value when sync() resolves");
      await durable;
      assert.equal(storage.whenDurable(), undefined);
    });

    test("past the unflushed limit a write waits for its commit, holding the input gate", async () => {
      harness = await Harness.create(kind);
      const hooks = new RecordingHooks();
      const storage = harness.room("r", hooks);
      const limit = UNFLUSHED_LIMITS.keys;
      for (let i = 0; i < limit; i++) await storage.put(`k${i}`, i);
      assert.equal(harness.engine.commits.length, 0, "up to the limit, writes wait for nothing");
      assert.equal(hooks.started, 0);
      const over = storage.put("one-more", 1);
      assert.equal(hooks.openOperations, 1, "the input gate is closed while the write waits");
      await over;
      assert.equal(harness.engine.commits.length, 1, "resolved once durable");
      assert.equal(hooks.openOperations, 0);
    });

    test("writes made while a commit is in flight go in the next commit", async () => {
      harness = await Harness.create(kind);
      const storage = harness.room();
      await storage.put("warm-up", 0);
      await storage.sync(); // a networked engine's first commit also waits for the claim
      await nextMacrotask(); // the service is idle again
      const before = harness.engine.commits.length;
      void storage.put("a", 1);
      await nextMacrotask(); // the commit of "a" has started
      void storage.put("b", 2);
      await storage.sync();
      assert.equal(harness.engine.commits.length, before + 2);
      assert.deepEqual([...harness.engine.commits[before + 1]![0]!.entries.keys()], ["b"]);
    });

    test("the next commit starts before output released by the last one is written at the end of its turn", async () => {
      harness = await Harness.create(kind);
      const storage = harness.room();
      await storage.put("warm-up", 0);
      await storage.sync();
      await nextMacrotask();
      const release = harness.engine.pauseCommits();
      void storage.put("a", 1);
      const durableA = storage.whenDurable()!;
      await nextMacrotask(); // the commit of "a" has started, and waits
      void storage.put("b", 2); // waits for the next commit
      const before = harness.engine.commits.length;
      release();
      // What the server does with a response held for "a": write it on a setImmediate.
      const commitsWhenAnswered = await new Promise<number>((resolve) => {
        void durableA.then(() => setImmediate(() => resolve(harness.engine.commits.length)));
      });
      assert.equal(commitsWhenAnswered, before + 1, "the commit of \"b\" was under way before the answer to \"a\" went out");
      await storage.sync();
    });

    test("puts of one turn coalesce, awaited or not; sync() between them commits each", async () => {
      harness = await Harness.create(kind);
      const storage = harness.room();
      for (let i = 0; i < 5; i++) await storage.put(`awaited${i}`, i);
      const puts = [];
      for (let i = 0; i < 100; i++) puts.push(storage.put(`coalesced${i}`, i));
      await Promise.all(puts);
      await storage.sync();
      assert.equal(harness.engine.commits.length, 1);
      for (let i = 0; i < 5; i++) {
        await storage.put(`synced${i}`, i);
        await storage.sync();
      }
      assert.equal(harness.engine.commits.length, 6);
      assert.equal((await storage.list({ prefix: "coalesced" })).size, 100);
    });

    test("a failed commit drops the room's pending writes, fails its output and sync(), and reports writeFailed", async () => {
      harness = await Harness.create(kind);
      const hooks = new RecordingHooks();
      const storage = harness.room("r", hooks);
      const other = harness.room("other");
      await storage.put("kept", "durable");
      await storage.sync();
      assert.equal(await storage.get("kept"), "durable");
      harness.engine.failNext = new Error("disk on fire");
      await storage.put("lost", 1);
      await storage.put("kept", "lost too");
      await other.put("x", 1);
      assert.equal(await storage.get("kept"), "lost too", "visible before the commit");
      const output = storage.whenDurable()!;
      const otherSync = other.sync();
      await assert.rejects(storage.sync(), /disk on fire/);
      await assert.rejects(output, /disk on fire/, "output held behind the writes is dropped");
      await assert.rejects(otherSync, /disk on fire/, "the whole group commit failed");
      assert.equal(hooks.failures.length, 1);
      assert.equal(hooks.failures[0]!.message, "disk on fire");
      assert.equal(await storage.get("lost"), undefined);
      assert.equal(await storage.get("kept"), "durable", "cache invalidated: back to what is durable");
      // The room keeps working afterwards.
      await storage.put("after", 1);
      assert.equal(await storage.get("after"), 1);
      await nextMacrotask();
      assert.equal(hooks.openOperations, 0, "every input gate closed was opened again");
    });

    test("a fenced room loses its writes; other rooms of the same commit keep theirs", async () => {
      harness = await Harness.create(kind);
      const hooks = new RecordingHooks();
      const fencedRoom = harness.room("fenced", hooks);
      await fencedRoom.put("before", 1);
      await fencedRoom.sync();
      harness.engine.fenceNext = true;
      await fencedRoom.put("k", 1);
      await assert.rejects(fencedRoom.sync(), (error: unknown) => error instanceof FencedError);
      assert.ok(hooks.failures[0] instanceof FencedError);
      assert.equal(await fencedRoom.get("k"), undefined);
      assert.equal(await fencedRoom.get("before"), 1);
    });

    test("a write that nobody awaits does not crash the process when its commit fails", async () => {
      harness = await Harness.create(kind);
      const hooks = new RecordingHooks();
      const storage = harness.room("r", hooks);
      harness.engine.failNext = new Error("boom");
      void storage.put("k", 1);
      void storage.delete("cached-absent");
      void storage.delete(["never-read"]);
      void storage.setAlarm(Date.now() + 1000);
      void storage.whenDurable();
      // delete() of keys not in memory asks the engine first; a networked engine takes a while.
      for (let i = 0; i < 500 && hooks.failures.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      await nextMacrotask();
      assert.equal(hooks.failures.length, 1);
    });

    test("close() commits everything pending first", async () => {
      harness = await Harness.create(kind);
      const storage = harness.room();
      void storage.put("k", 1);
      await harness.service.close();
      assert.equal(harness.engine.commits.length, 1);
      await harness.reopen();
      if (isDurable(kind)) assert.equal(await harness.room().get("k"), 1);
    });
  });
}
