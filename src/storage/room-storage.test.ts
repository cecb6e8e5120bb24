import { describe, test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { ENGINE_KINDS, Harness, isDurable, nextMacrotask } from "./test-support.js";

const SPEC_ORDER = ["", "0", "B", "_", "a", "aa", "user:1", "user:10", "user:2", "é", "\uE000", "😀"];

for (const kind of ENGINE_KINDS) {
  describe(`room storage on the ${kind} engine`, () => {
    let harness: Harness;
    afterEach(async () => harness.dispose());

    test("get/put/delete, single and batch", async () => {
      harness = await Harness.create(kind);
      const storage = harness.room();
      assert.equal(await storage.get("missing"), undefined);
      await storage.put("a", 1);
      await storage.put({ b: 2, c: { three: 3 } });
      assert.equal(await storage.get("a"), 1);
      assert.deepEqual(await storage.get(["c", "a", "nope"]), new Map<string, unknown>([["a", 1], ["c", { three: 3 }]]));
      assert.equal(await storage.delete("a"), true);
      assert.equal(await storage.delete("a"), false);
      assert.equal(await storage.delete(["b", "c", "zzz"]), 2);
      assert.deepEqual(await storage.list(), new Map());
    });

    test("delete counts keys that only the engine knows about", async () => {
      harness = await Harness.create(kind);
      await harness.room().put({ x: 1, y: 2 });
      await harness.service.close();
      if (kind === "memory") return; // nothing survives a memory engine
      await harness.reopen();
      const storage = harness.room();
      assert.equal(await storage.delete(["x", "y", "z"]), 2);
      assert.equal(await storage.get("x"), undefined);
    });

    test("list orders keys by UTF-8 bytes, with ranges, prefix, reverse and limit", async () => {
      harness = await Harness.create(kind);
      const storage = harness.room();
      const shuffled = [...SPEC_ORDER].sort(() => 0.5 - Math.random());
      for (const key of shuffled) void storage.put(key, key);
      await storage.sync();
      // Once from the overlay-free engine path, once from a fresh room (engine and cache cold).
      for (let pass = 0; pass < 2; pass++) {
        const reader = pass === 0 ? storage : ((await harness.reopenIfDurable()) ?? storage);
        assert.deepEqual([...(await reader.list()).keys()], SPEC_ORDER);
        assert.deepEqual([...(await reader.list({ reverse: true })).keys()], [...SPEC_ORDER].reverse());
        assert.deepEqual([...(await reader.list({ prefix: "user:" })).keys()], ["user:1", "user:10", "user:2"]);
        assert.deepEqual([...(await reader.list({ prefix: "user:", start: "user:10" })).keys()], ["user:10", "user:2"]);
        assert.deepEqual([...(await reader.list({ start: "a", end: "user:10" })).keys()], ["a", "aa", "user:1"]);
        assert.deepEqual([...(await reader.list({ startAfter: "a", limit: 2 })).keys()], ["aa", "user:1"]);
        assert.deepEqual([...(await reader.list({ reverse: true, limit: 2 })).keys()], ["😀", "\uE000"]);
        assert.deepEqual([...(await reader.list({ reverse: true, end: "é", limit: 2 })).keys()], ["user:2", "user:10"]);
        assert.deepEqual([...(await reader.list({ start: "é" })).keys()], ["é", "\uE000", "😀"]);
        assert.deepEqual(await reader.list({ start: "b", end: "b" }), new Map());
        assert.deepEqual(await reader.list({ start: "c", end: "b" }), new Map());
      }
    });

    test("un-awaited writes are visible to the next read, list included", async () => {
      harness = await Harness.create(kind);
      const storage = harness.room();
      for (let i = 0; i < 10; i++) await storage.put(`k${i}`, i);
      void storage.put("k3", "changed");
      void storage.delete("k5");
      void storage.delete("k6");
      void storage.put("k55", 55);
      void storage.put("a-first", 0);
      assert.equal(await storage.get("k3"), "changed");
      assert.equal(await storage.get("k5"), undefined);
      assert.deepEqual(
        [...(await storage.list()).keys()],
        ["a-first", "k0", "k1", "k2", "k3", "k4", "k55", "k7", "k8", "k9"],
      );
      assert.deepEqual([...(await storage.list({ limit: 3 })).entries()], [["a-first", 0], ["k0", 0], ["k1", 1]]);
      assert.deepEqual([...(await storage.list({ start: "k4", limit: 3 })).keys()], ["k4", "k55", "k7"]);
      assert.deepEqual([...(await storage.list({ reverse: true, limit: 4 })).keys()], ["k9", "k8", "k7", "k55"]);
      assert.deepEqual([...(await storage.list({ reverse: true, start: "k3", end: "k7", limit: 2 })).keys()], ["k55", "k4"]);
    });

    test("list with limit fetches past keys that pending deletes hide", async () => {
      harness = await Harness.create(kind);
      const storage = harness.room();
      for (let i = 0; i < 10; i++) void storage.put(`k${i}`, i);
      await storage.sync();
      harness = await harnessWithColdCache(harness);
      const cold = harness.room();
      void cold.delete(["k0", "k1", "k2"]);
      assert.deepEqual([...(await cold.list({ limit: 3 })).keys()], ["k3", "k4", "k5"]);
      assert.deepEqual([...(await cold.list({ limit: 2, reverse: true })).keys()], ["k9", "k8"]);
    });

    test("get returns a fresh copy every time, from the cache and from the engine", async () => {
      harness = await Harness.create(kind);
      const storage = harness.room();
      const original = { list: [1, 2], nested: { a: 1 } };
      void storage.put("obj", original);
      original.list.push(99); // the caller's object is not the stored one
      const first = (await storage.get("obj")) as typeof original;
      assert.deepEqual(first, { list: [1, 2], nested: { a: 1 } });
      first.nested.a = 5;
      await storage.sync();
      const second = (await storage.get("obj")) as typeof original;
      assert.deepEqual(second, { list: [1, 2], nested: { a: 1 } });
      assert.notEqual(first, second);
      const listed = (await storage.list()).get("obj") as typeof original;
      listed.list.length = 0;
      assert.deepEqual(await storage.get("obj"), { list: [1, 2], nested: { a: 1 } });
    });

    test("exact limit errors, and a failed call writes nothing", async () => {
      harness = await Harness.create(kind);
      const storage = harness.room();
      const longKey = "k".repeat(2049);
      await assert.rejects(storage.put(longKey, 1), {
        name: "RangeError",
        message: "Keys cannot be larger than 2048 bytes. A key of size 2049 was provided.",
      });
      await assert.rejects(storage.get("é".repeat(1025)), {
        message: "Keys cannot be larger than 2048 bytes. A key of size 2050 was provided.",
      });
      await storage.put("k".repeat(2048), "max key is fine");
      const big = "x".repeat(200_000);
      await assert.rejects(storage.put("big", big), (error: unknown) => {
        assert.ok(error instanceof RangeError);
        assert.match(error.message, /^Values cannot be larger than 131072 bytes\. A value of size \d+ was provided\.$/);
        return true;
      });
      // A 128 KiB byte array is the largest value y-partykit writes: it must fit.
      await storage.put("chunk", new Uint8Array(131072));
      await assert.rejects(storage.put("chunk2", new Uint8Array(131072 + 40)), RangeError);
      const tooMany = Array.from({ length: 129 }, (_, i) => `key${i}`);
      const pairs = "Maximum number of key value pairs is 128. 129 pairs were provided.";
      await assert.rejects(storage.get(tooMany), { name: "RangeError", message: pairs });
      await assert.rejects(storage.delete(tooMany), { name: "RangeError", message: pairs });
      await assert.rejects(storage.put(Object.fromEntries(tooMany.map((key) => [key, 1]))), { name: "RangeError", message: pairs });
      assert.equal((await storage.get(tooMany.slice(0, 128))).size, 0);
      await assert.rejects(storage.list({ limit: 0 }), { name: "TypeError", message: "List limit must be positive." });
      await assert.rejects(storage.list({ limit: -1 }), { name: "TypeError", message: "List limit must be positive." });
      // One bad entry spoils the whole batch.
      await assert.rejects(storage.put({ good: 1, bad: () => 1 }), { name: "DataCloneError" });
      await assert.rejects(storage.put({ good: 1, [longKey]: 1 }), RangeError);
      await assert.rejects(storage.put("undef", undefined), { name: "TypeError", message: "put() called with undefined value." });
      assert.equal(await storage.get("good"), undefined);
      assert.deepEqual([...(await storage.list()).keys()].sort(), ["chunk", "k".repeat(2048)].sort());
      await storage.sync();
      const commitsBefore = harness.engine.commits.length;
      await nextMacrotask();
      await nextMacrotask();
      assert.equal(harness.engine.commits.length, commitsBefore, "failed calls commit nothing");
    });

    test("deleteAll removes every key, keeps the alarm, and hides keys the engine still has", async () => {
      harness = await Harness.create(kind);
      const storage = harness.room();
      await storage.put({ a: 1, b: 2, c: 3 });
      await storage.setAlarm(Date.now() + 60_000);
      const alarm = await storage.getAlarm();
      void storage.put("before", 1);
      void storage.deleteAll();
      void storage.put("after", 2);
      // A key the engine holds, written again after the wipe in the same batch: the new value.
      void storage.put("b", 9);
      assert.equal(await storage.get("a"), undefined);
      assert.equal(await storage.get("before"), undefined);
      assert.deepEqual([...(await storage.list()).entries()], [["after", 2], ["b", 9]]);
      await storage.sync();
      assert.deepEqual([...(await storage.list()).entries()], [["after", 2], ["b", 9]]);
      assert.equal(await storage.getAlarm(), alarm);
      const durable = await harness.reopenIfDurable();
      if (durable) {
        assert.deepEqual([...(await durable.list()).entries()], [["after", 2], ["b", 9]]);
        assert.equal(await durable.getAlarm(), alarm);
      }
    });

    test("options objects are accepted", async () => {
      harness = await Harness.create(kind);
      const storage = harness.room();
      await storage.put("a", 1, { allowUnconfirmed: true, noCache: true, allowConcurrency: true });
      await storage.put({ b: 2 }, { noCache: true });
      assert.equal(await storage.get("a", { noCache: true, allowConcurrency: true }), 1);
      assert.deepEqual(await storage.get(["a", "b"], { allowConcurrency: true }), new Map([["a", 1], ["b", 2]]));
      assert.equal(await storage.delete("a", { allowUnconfirmed: true }), true);
      assert.deepEqual([...(await storage.list({ noCache: true, allowConcurrency: true })).keys()], ["b"]);
      await storage.setAlarm(new Date(Date.now() + 1000), { allowUnconfirmed: true });
      assert.ok((await storage.getAlarm({ allowConcurrency: true }))! > 0);
      await storage.deleteAlarm({ allowConcurrency: true });
      await storage.deleteAll({ allowUnconfirmed: true });
      assert.equal((await storage.list()).size, 0);
    });

    test("the read cache keeps its bound and never serves a stale value", async () => {
      harness = await Harness.create(kind, { cacheBytesPerRoom: 20_000 });
      const storage = harness.room() as ReturnType<Harness["room"]> & { cachedBytes: number };
      for (let i = 0; i < 100; i++) void storage.put(`k${String(i).padStart(3, "0")}`, { i, pad: "p".repeat(500) });
      await storage.sync();
      assert.ok(storage.cachedBytes <= 20_000, `cache holds ${storage.cachedBytes} bytes`);
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 100; i += 7) {
          const key = `k${String(i).padStart(3, "0")}`;
          assert.equal(((await storage.get(key)) as { i: number }).i, i + round * 1000);
          void storage.put(key, { i: i + (round + 1) * 1000, pad: "p".repeat(500) });
          assert.equal(((await storage.get(key)) as { i: number }).i, i + (round + 1) * 1000);
        }
        await storage.sync();
        assert.ok(storage.cachedBytes <= 20_000);
      }
      const listed = await storage.list<{ i: number }>();
      assert.equal(listed.size, 100);
      assert.equal(listed.get("k007")!.i, 7 + 3000);
      assert.equal(listed.get("k001")!.i, 1);
      assert.ok(storage.cachedBytes <= 20_000);
    });

    test("rooms are isolated from each other", async () => {
      harness = await Harness.create(kind);
      const one = harness.room("one");
      const two = harness.room("two");
      const otherParty = harness.room("one", undefined, "other");
      await Promise.all([one.put("k", 1), two.put("k", 2), otherParty.put("k", 3)]);
      assert.equal(await one.get("k"), 1);
      assert.equal(await two.get("k"), 2);
      assert.equal(await otherParty.get("k"), 3);
      await two.deleteAll();
      assert.equal(await one.get("k"), 1);
      assert.equal((await two.list()).size, 0);
    });
  });
}

/** Reopens sqlite so the next room reads from disk with an empty cache; memory keeps its harness. */
async function harnessWithColdCache(harness: Harness): Promise<Harness> {
  if (isDurable(harness.kind)) await harness.reopen();
  else {
    // Same engine, new service: a new room object with an empty cache.
    const { GroupCommitStorageService } = await import("./service.js");
    harness.service = new GroupCommitStorageService(harness.engine);
  }
  return harness;
}
