import { test } from "node:test";
import assert from "node:assert/strict";
import { preferredNode } from "./rendezvous.js";

test("rendezvous spreads rooms and moves only the rooms of a node that leaves", () => {
  const nodes = ["a:1", "b:2", "c:3"];
  const counts = new Map<string, number>();
  const before = new Map<string, string>();
  for (let i = 0; i < 3000; i++) {
    const owner = preferredNode(nodes, "main", `room-${i}`)!;
    before.set(`room-${i}`, owner);
    counts.set(owner, (counts.get(owner) ?? 0) + 1);
  }
  for (const node of nodes) assert.ok(counts.get(node)! > 800, `${node} gets a fair share: ${counts.get(node)}`);
  let moved = 0;
  for (const [room, owner] of before) {
    const after = preferredNode(["a:1", "c:3"], "main", room)!;
    if (owner !== "b:2") assert.equal(after, owner, "rooms of staying nodes stay");
    else moved++;
  }
  assert.equal(moved, counts.get("b:2"));
  assert.equal(preferredNode([], "main", "x"), undefined);
  assert.equal(preferredNode(["c:3", "a:1", "b:2"], "main", "room-7"), before.get("room-7"), "order of nodes does not matter");
});
