import { test } from "node:test";
import assert from "node:assert/strict";
import { ValueCache } from "./cache.js";
import { encodeValue } from "./values.js";

test("the cache stays within its byte bound, evicting the least recently used", () => {
  const cache = new ValueCache(10_000);
  const value = encodeValue("x".repeat(1000));
  for (let i = 0; i < 50; i++) {
    cache.set(`key${i}`, value);
    assert.ok(cache.bytes <= 10_000, `over the bound after ${i} entries: ${cache.bytes}`);
  }
  assert.ok(cache.size > 0 && cache.size < 50);
  assert.equal(cache.get("key0"), undefined, "oldest entry evicted");
  assert.equal(cache.get("key49"), value);
});

test("recently read entries survive eviction", () => {
  const cache = new ValueCache(5_000);
  const value = encodeValue("y".repeat(500));
  for (let i = 0; i < 8; i++) cache.set(`k${i}`, value);
  const survivors = cache.size;
  cache.get("k0");
  for (let i = 8; i < 8 + survivors - 1; i++) cache.set(`k${i}`, value);
  assert.equal(cache.get("k0"), value);
});

test("known-absent keys are cached as null; oversized values are not cached", () => {
  const cache = new ValueCache(1_000);
  cache.set("gone", null);
  assert.equal(cache.get("gone"), null);
  cache.set("big", encodeValue("z".repeat(5_000)));
  assert.equal(cache.get("big"), undefined);
  cache.clear();
  assert.equal(cache.bytes, 0);
  assert.equal(cache.get("gone"), undefined);
});
