import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { AwarenessEntry } from "./awareness-store.js";
import { RenewalBatch } from "./renewal-batch.js";

const entry = (clientId: number, clock: number): AwarenessEntry => ({ clientId, clock, state: "{}" });

test("holds renewals for the window and relays them together, in arrival order", async () => {
  const relayed: AwarenessEntry[][] = [];
  const batch = new RenewalBatch(80, (entries) => relayed.push(entries));
  const started = Date.now();
  const first = batch.add(entry(1, 2));
  assert.ok(first instanceof Promise, "the first renewal of a batch gets its promise");
  assert.equal(batch.add(entry(2, 5)), undefined, "later ones join it");
  batch.add(entry(3, 1));
  batch.add(entry(1, 3));
  assert.deepEqual(relayed, [], "nothing before the window ends");
  await first;
  assert.ok(Date.now() - started >= 75, "relayed after the window");
  assert.deepEqual(relayed, [[entry(2, 5), entry(3, 1), entry(1, 3)]], "one batch; a newer renewal of a client replaces its held one");
  assert.equal(batch.size, 0);
});

test("a dropped renewal is not relayed; an empty batch sends nothing but still settles", async () => {
  const relayed: AwarenessEntry[][] = [];
  const batch = new RenewalBatch(20, (entries) => relayed.push(entries));
  const pending = batch.add(entry(1, 2));
  batch.add(entry(2, 2));
  batch.drop(1);
  await pending;
  assert.deepEqual(relayed, [[entry(2, 2)]]);
  const empty = batch.add(entry(4, 1));
  batch.drop(4);
  await empty;
  assert.equal(relayed.length, 1);
});

test("flush relays at once and starts a new batch afterwards", async () => {
  const relayed: AwarenessEntry[][] = [];
  const batch = new RenewalBatch(10_000, (entries) => relayed.push(entries));
  const pending = batch.add(entry(1, 2));
  batch.flush();
  await pending;
  assert.deepEqual(relayed, [[entry(1, 2)]]);
  const next = batch.add(entry(1, 3));
  assert.ok(next instanceof Promise);
  batch.flush();
  await next;
  await sleep(1);
  assert.deepEqual(relayed, [[entry(1, 2)], [entry(1, 3)]]);
});
