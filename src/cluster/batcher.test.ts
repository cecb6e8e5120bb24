import { test } from "node:test";
import assert from "node:assert/strict";
import { Batcher } from "./batcher.js";

/** A run function that records each call and answers when `open` is called. */
function recorder() {
  const calls: number[][] = [];
  const gates: Array<() => void> = [];
  const run = async (items: readonly number[]) => {
    calls.push([...items]);
    await new Promise<void>((resolve) => gates.push(resolve));
    return items.map((item) => item * 10);
  };
  const open = () => {
    for (const gate of gates.splice(0)) gate();
  };
  return { calls, run, open };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

test("items added in one turn ride one call, each gets its own answer", async () => {
  const { calls, run, open } = recorder();
  const batcher = new Batcher(run, { maxBatch: 100, maxInFlight: 1 });
  const answers = Promise.all([1, 2, 3].map((item) => batcher.add(item)));
  await turn();
  open();
  assert.deepEqual(await answers, [10, 20, 30]);
  assert.deepEqual(calls, [[1, 2, 3]]);
});

test("items added while calls are in flight wait for the next call; batches and calls stay bounded", async () => {
  const { calls, run, open } = recorder();
  const batcher = new Batcher(run, { maxBatch: 2, maxInFlight: 2 });
  const first = [1, 2, 3, 4, 5].map((item) => batcher.add(item));
  await turn();
  assert.deepEqual(calls, [[1, 2], [3, 4]], "two calls of at most two items; the fifth waits");
  const later = batcher.add(6);
  await turn();
  assert.equal(calls.length, 2, "nothing starts while two calls are in flight");
  open();
  assert.deepEqual(await Promise.all(first.slice(0, 4)), [10, 20, 30, 40]);
  await turn();
  assert.deepEqual(calls.slice(2), [[5, 6]], "what waited goes together in the next call");
  open();
  assert.deepEqual(await Promise.all([first[4], later]), [50, 60]);
});

test("a failed call rejects every item it carried, and the next call still runs", async () => {
  let fail = true;
  const batcher = new Batcher(
    async (items: readonly number[]) => {
      if (fail) throw new Error("statement failed");
      return items;
    },
    { maxBatch: 10, maxInFlight: 1 },
  );
  const failed = await Promise.allSettled([batcher.add(1), batcher.add(2)]);
  assert.deepEqual(
    failed.map((result) => result.status),
    ["rejected", "rejected"],
  );
  fail = false;
  assert.equal(await batcher.add(3), 3);
});
