import assert from "node:assert/strict";
import { test } from "node:test";
import { partykitHostFor } from "./boot.js";

test("PARTYKIT_HOST is an address clients can reach, never a wildcard", () => {
  assert.equal(partykitHostFor("127.0.0.1", 1999), "127.0.0.1:1999");
  assert.equal(partykitHostFor("0.0.0.0", 80), "127.0.0.1:80");
  assert.equal(partykitHostFor("::", 80), "[::1]:80");
  assert.equal(partykitHostFor("::1", 80), "[::1]:80");
  assert.equal(partykitHostFor("example.test", 8080), "example.test:8080");
});
