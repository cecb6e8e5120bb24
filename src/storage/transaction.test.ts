import { describe, test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { ENGINE_KINDS, Harness } from "./test-support.js";

for (const kind of ENGINE_KINDS) {
  describe(`transactions on the ${kind} engine`, () => {
    let harness: Harness;
    afterEach(async () => harness.dispose());

    test("a transaction's writes are visible inside it and land together in one commit", async () => {
      harness = await Harness.create(kind);
      const storage = harness.room();
      await storage.put({ a: 1, b: 2, c: 3 });
      await storage.sync();
      const commitsBefore = harness.engine.commits.length;
      const result = await storage.transaction(async (txn) => {
        await txn.put("a", 10);
        assert.equal(await txn.delete("b"), true);
        assert.equal(await txn.delete(["b", "c", "nope"]), 1);
        await txn.put({ d: 4, e: 5 });
        assert.equal(await txn.get("a"), 10);
        assert.equal(await txn.get("b"), undefined);
        assert.deepEqual(await txn.get(["a", "d", "b"]), new Map([["a", 10], ["d", 4]]));
        assert.deepEqual([...(await txn.list()).entries()], [["a", 10], ["d", 4], ["e", 5]]);
        assert.deepEqual([...(await txn.list({ reverse: true, limit: 2 })).keys()], ["e", "d"]);
        // Outside the transaction nothing has changed yet.
        assert.equal(await storage.get("a"), 1);
        await txn.setAlarm(4_000_000_000_000);
        assert.equal(await txn.getAlarm(), 4_000_000_000_000);
        return "done";
      });
      assert.equal(result, "done");
      await storage.sync();
      assert.equal(harness.engine.commits.length, commitsBefore + 1);
      assert.deepEqual([...(await storage.list()).entries()], [["a", 10], ["d", 4], ["e", 5]]);
      assert.equal(await storage.getAlarm(), 4_000_000_000_000);
    });

    test("throwing inside a transaction discards its writes and rethrows", async () => {
      harness = await Harness.create(kind);
      const storage = harness.room();
      await storage.put("a", 1);
      await assert.rejects(
        storage.transaction(async (txn) => {
          await txn.put("a", 2);
          await txn.put("b", 2);
          await txn.setAlarm(Date.now() + 10_000);
          throw new Error("abort");
        }),
        /abort/,
      );
      assert.equal(await storage.get("a"), 1);
      assert.equal(await storage.get("b"), undefined);
      assert.equal(await storage.getAlarm(), null);
    });

    test("rollback() discards the writes but returns the closure's result", async () => {
      harness = await Harness.create(kind);
      const storage = harness.room();
      await storage.put("a", 1);
      const commitsBefore = harness.engine.commits.length;
      const result = await storage.transaction(async (txn) => {
        await txn.put("a", 2);
        await txn.delete("a");
        txn.rollback();
        return 42;
      });
      assert.equal(result, 42);
      assert.equal(await storage.get("a"), 1);
      assert.equal(harness.engine.commits.length, commitsBefore);
    });

    test("transactions of a room run one after another", async () => {
      harness = await Harness.create(kind);
      const storage = harness.room();
      await storage.put("counter", 0);
      const increment = () =>
        storage.transaction(async (txn) => {
          const value = (await txn.get<number>("counter"))!;
          await new Promise((resolve) => setTimeout(resolve, 5));
          await txn.put("counter", value + 1);
        });
      await Promise.all([increment(), increment(), increment()]);
      assert.equal(await storage.get("counter"), 3);
    });

    test("errors inside a transaction use the same messages and write nothing", async () => {
      harness = await Harness.create(kind);
      const storage = harness.room();
      await storage.transaction(async (txn) => {
        await assert.rejects(txn.put("k".repeat(2049), 1), { message: "Keys cannot be larger than 2048 bytes. A key of size 2049 was provided." });
        await assert.rejects(txn.put({ ok: 1, bad: Symbol("x") }), { name: "DataCloneError" });
        await assert.rejects(txn.list({ limit: 0 }), { message: "List limit must be positive." });
        await assert.rejects(txn.delete(Array.from({ length: 129 }, (_, i) => `${i}`)), {
          message: "Maximum number of key value pairs is 128. 129 pairs were provided.",
        });
        assert.equal(await txn.get("ok"), undefined);
      });
      assert.equal((await storage.list()).size, 0);
    });
  });
}
