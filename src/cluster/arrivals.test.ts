import assert from "node:assert/strict";
import { test } from "node:test";
import { Arrivals } from "./arrivals.js";

test("a room whose every client of the window came through one other node is named, once it had enough of them", () => {
  const arrivals = new Arrivals();
  for (let i = 0; i < 3; i++) arrivals.note("main", "through-b", "b");
  arrivals.note("main", "few", "b");
  for (const via of ["b", "c", "b"]) arrivals.note("main", "mixed", via);
  for (const via of ["b", "a", "b"]) arrivals.note("main", "some-direct", via);
  for (let i = 0; i < 3; i++) arrivals.note("main", "direct", "a");
  assert.deepEqual(arrivals.take("a", 3), [{ party: "main", room: "through-b", via: "b", count: 3 }]);
  // A new window: what was counted is gone.
  assert.deepEqual(arrivals.take("a", 1), []);
  arrivals.note("other", "through-b", "c");
  assert.deepEqual(arrivals.take("a", 1), [{ party: "other", room: "through-b", via: "c", count: 1 }]);
});
