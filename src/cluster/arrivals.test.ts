import assert from "node:assert/strict";
import { test } from "node:test";
import { Arrivals } from "./arrivals.js";

const rooms = (found: ReturnType<Arrivals["take"]>) => found.map(({ room, via }) => `${room}@${via}`);

test("a room whose recent clients all came through one other node is named once they were enough, over two windows", () => {
  const arrivals = new Arrivals();
  const burst = (room: string, via: string, count = 2) => {
    for (let i = 0; i < count; i++) arrivals.note("main", room, via);
  };
  burst("through-b", "b");
  burst("mixed", "b");
  burst("direct", "a");
  burst("few", "b", 1);
  assert.deepEqual(rooms(arrivals.take("a")), [], "one window is not enough");
  burst("through-b", "b");
  burst("mixed", "c");
  burst("direct", "a");
  burst("few", "b", 1);
  assert.deepEqual(rooms(arrivals.take("a")), ["through-b@b"], "two arrivals are not enough");
  arrivals.forget("main", "through-b");
  burst("few", "b", 1);
  assert.deepEqual(rooms(arrivals.take("a")), ["few@b"], "forgotten; the evidence of the others lasts");
});

test("after the clients' node changes, the old node's arrivals must leave the horizon first", () => {
  const arrivals = new Arrivals();
  arrivals.note("main", "r", "a");
  arrivals.take("a");
  // From here on the balancer sends the room's clients to b.
  const seen: string[][] = [];
  for (let window = 0; window < 4; window++) {
    for (let i = 0; i < 3; i++) arrivals.note("main", "r", "b");
    seen.push(rooms(arrivals.take("a")));
  }
  assert.deepEqual(seen, [[], [], ["r@b"], ["r@b"]]);
  // Quiet for a while, the evidence stays within the horizon (a hibernating room can move once quiet).
  assert.deepEqual(rooms(arrivals.take("a")), ["r@b"]);
  for (let window = 0; window < 3; window++) arrivals.take("a");
  assert.deepEqual(rooms(arrivals.take("a")), [], "then it is forgotten");
});
