import { describe, test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { ENGINE_KINDS, Harness, RecordingHooks, nextMacrotask } from "./test-support.js";

for (const kind of ENGINE_KINDS) {
  describe(`gates on the ${kind} engine`, () => {
    let harness: Harness;
    afterEach(async () => harness.dispose());

    test("reads served from memory do not touch the input gate", async () => {
      harness = await Harness.create(kind);
      const hooks = new RecordingHooks();
      const storage = harness.room("r", hooks);
      await storage.put("k", 1);
      await nextMacrotask();
      const startedBefore = hooks.started;
      assert.equal(await storage.get("k"), 1);
      assert.deepEqual(await storage.get(["k"]), new Map([["k", 1]]));
      void storage.put("pending", 2);
      assert.equal(await storage.get("pending"), 2);
      assert.equal(hooks.started, startedBefore, "neither memory reads nor writes close the input gate");
    });

    test("an engine read closes the gate until its result is there", async () => {
      harness = await Harness.create(kind);
      const hooks = new RecordingHooks();
      const storage = harness.room("r", hooks);
      const read = storage.get("cold");
      assert.equal(hooks.openOperations, 1, "closed while the engine read runs");
      assert.equal(await read, undefined);
      assert.equal(hooks.openOperations, 0, "open again once the read settled");
      assert.equal(hooks.started, 1);
      assert.equal(hooks.ended, 1);
    });

    test("a write holds the output gate, not the input gate, until it is durable", async () => {
      harness = await Harness.create(kind);
      const hooks = new RecordingHooks();
      const storage = harness.room("r", hooks);
      assert.equal(storage.whenDurable(), undefined, "nothing pending: output need not wait");
      void storage.put("a", 1);
      void storage.put("b", 2);
      assert.equal(hooks.openOperations, 0, "other events may run (and read a, b) meanwhile");
      const durable = storage.whenDurable();
      assert.ok(durable instanceof Promise);
      let committedWhenDurable = -1;
      await durable!.then(() => (committedWhenDurable = harness.engine.commits.length));
      assert.equal(committedWhenDurable, 1);
      assert.equal(storage.whenDurable(), undefined);
      await nextMacrotask();
      assert.equal(hooks.openOperations, 0);
    });

    test("allowConcurrency skips the input gate; allowUnconfirmed skips the output gate", async () => {
      harness = await Harness.create(kind);
      const hooks = new RecordingHooks();
      const storage = harness.room("r", hooks);
      void storage.put("a", 1, { allowConcurrency: true, allowUnconfirmed: true });
      assert.equal(hooks.started, 0);
      assert.equal(storage.whenDurable(), undefined);
      await storage.get("cold", { allowConcurrency: true });
      assert.equal(hooks.started, 0);
      await storage.sync();
      assert.equal(await storage.get("a"), 1);
    });

    test("a transaction holds the input gate for its whole duration", async () => {
      harness = await Harness.create(kind);
      const hooks = new RecordingHooks();
      const storage = harness.room("r", hooks);
      let insideGate = -1;
      await storage.transaction(async (txn) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        insideGate = hooks.openOperations;
        await txn.put("k", 1);
      });
      assert.ok(insideGate >= 1);
      await nextMacrotask();
      assert.equal(hooks.openOperations, 0);
    });

    test("whenDurable() rejects when the write failed", async () => {
      harness = await Harness.create(kind);
      const storage = harness.room("r", new RecordingHooks());
      harness.engine.failNext = new Error("no space left");
      void storage.put("k", 1);
      await assert.rejects(storage.whenDurable()!, /no space left/);
    });
  });
}
