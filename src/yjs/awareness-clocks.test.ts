import assert from "node:assert/strict";
import { test } from "node:test";
import { isSameState, stateHash, updatedClocks, type AwarenessClocks } from "./awareness-clocks.js";

test("keeps each client's newest clock and the hash of its last state; a removal forgets it", () => {
  const first = updatedClocks([], [{ clientId: 5, clock: 1, state: '{"c":1}' }])!;
  assert.deepEqual(first, [[5, 1, stateHash('{"c":1}')]]);
  assert.equal(updatedClocks(first, [{ clientId: 5, clock: 1, state: '{"c":1}' }]), undefined, "nothing new");
  const renewed = updatedClocks(first, [{ clientId: 5, clock: 2, state: '{"c":1}' }])!;
  assert.deepEqual(renewed, [[5, 2, stateHash('{"c":1}')]]);
  const moved = updatedClocks(renewed, [{ clientId: 5, clock: 3, state: '{"c":2}' }])!;
  assert.deepEqual(moved, [[5, 3, stateHash('{"c":2}')]]);
  assert.deepEqual(updatedClocks(moved, [{ clientId: 5, clock: 4, state: "null" }]), []);
});

test("tells the state a connection last sent from another, also in states written without a hash", () => {
  const clocks: AwarenessClocks = [[5, 3, stateHash('{"c":1}')], [6, 2]];
  assert.equal(isSameState(clocks, 5, '{"c":1}'), true);
  assert.equal(isSameState(clocks, 5, '{"c":2}'), false);
  assert.equal(isSameState(clocks, 5, "null"), false, "a removal is never a renewal");
  assert.equal(isSameState(clocks, 6, '{"c":1}'), false, "no hash: not known to be the same");
  assert.equal(isSameState(clocks, 7, '{"c":1}'), false, "another connection's client");
  assert.notEqual(stateHash('{"c":1}'), stateHash('{"c":2}'));
});
