import { test } from "node:test";
import assert from "node:assert/strict";
import { compareKeys, normalizeKey } from "./keys.js";

const SPEC_ORDER = ["", "0", "B", "_", "a", "aa", "user:1", "user:10", "user:2", "é", "\uE000", "😀"];

function utf8Compare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

test("the spec's example keys sort in UTF-8 byte order", () => {
  const shuffled = [...SPEC_ORDER].reverse();
  assert.deepEqual(shuffled.sort(compareKeys), SPEC_ORDER);
});

test("an astral character sorts after U+E000..U+FFFF, unlike JavaScript's <", () => {
  assert.ok("😀" < "\uE000", "UTF-16 order puts the surrogate pair first");
  assert.ok(compareKeys("\uE000", "😀") < 0);
  assert.ok(compareKeys("\uFFFF", "😀") < 0);
  assert.ok(compareKeys("\uD7FF", "😀") < 0);
});

test("compareKeys agrees with memcmp of UTF-8 on random strings", () => {
  const alphabet = ["a", "b", "\u007f", "\u0080", "é", "\u07ff", "\u0800", "\uD7FF", "\uE000", "\uFFFD", "\uFFFF", "😀", "\u{10FFFF}", "\u{10000}"];
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const word = () => Array.from({ length: Math.floor(random() * 5) }, () => alphabet[Math.floor(random() * alphabet.length)]).join("");
  for (let i = 0; i < 5000; i++) {
    const a = word();
    const b = word();
    assert.equal(Math.sign(compareKeys(a, b)), Math.sign(utf8Compare(a, b)), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
  }
});

test("keys with lone surrogates become what UTF-8 can store", () => {
  assert.equal(normalizeKey("a\uD800b"), "a\uFFFDb");
  assert.equal(normalizeKey("ok😀"), "ok😀");
  assert.equal(normalizeKey(42), "42");
});
