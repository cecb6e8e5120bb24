import assert from "node:assert/strict";
import { test } from "node:test";
import * as awarenessProtocol from "y-protocols/awareness";
import * as Y from "yjs";
import { AwarenessStore, decodeAwarenessUpdate, encodeAwarenessUpdate } from "./awareness-store.js";

function awareness(): awarenessProtocol.Awareness {
  const a = new awarenessProtocol.Awareness(new Y.Doc());
  clearInterval((a as unknown as { _checkInterval: NodeJS.Timeout })._checkInterval);
  return a;
}

test("reads and writes the wire format y-protocols uses", () => {
  const client = awareness();
  client.setLocalState({ user: "ann", cursor: { anchor: 3 } });
  const update = awarenessProtocol.encodeAwarenessUpdate(client, [client.clientID]);
  const entries = decodeAwarenessUpdate(update);
  assert.deepEqual(entries, [{ clientId: client.clientID, clock: 1, state: '{"user":"ann","cursor":{"anchor":3}}' }]);
  assert.deepEqual(encodeAwarenessUpdate(entries), update);

  const peer = awareness();
  awarenessProtocol.applyAwarenessUpdate(peer, encodeAwarenessUpdate(entries), null);
  assert.deepEqual(peer.getStates().get(client.clientID), { user: "ann", cursor: { anchor: 3 } });
});

test("applies y-protocols' rule: newer clocks win, a null state at the same clock removes", () => {
  const store = new AwarenessStore();
  assert.equal(store.apply([{ clientId: 1, clock: 2, state: "{}" }]).length, 1);
  assert.equal(store.apply([{ clientId: 1, clock: 1, state: '{"old":1}' }]).length, 0, "an older clock is ignored");
  assert.equal(store.apply([{ clientId: 1, clock: 2, state: "{}" }]).length, 0, "a repeat is ignored");
  assert.equal(store.apply([{ clientId: 1, clock: 2, state: "null" }]).length, 1, "null at the same clock removes");
  assert.equal(store.has(1), false);
  assert.equal(store.snapshot(), undefined);
});

test("a removal for a closed connection carries a clock every peer accepts, once", () => {
  const store = new AwarenessStore();
  store.apply([{ clientId: 7, clock: 5, state: '{"a":1}' }]);
  const removals = store.remove([[7, 5]]);
  assert.deepEqual(removals, [{ clientId: 7, clock: 6, state: "null" }]);
  assert.deepEqual(store.remove([[7, 5]]), [], "a second close announces nothing");

  const peer = awareness();
  awarenessProtocol.applyAwarenessUpdate(peer, encodeAwarenessUpdate([{ clientId: 7, clock: 5, state: '{"a":1}' }]), null);
  awarenessProtocol.applyAwarenessUpdate(peer, encodeAwarenessUpdate(removals), null);
  assert.equal(peer.getStates().has(7), false);
});

test("tells a renewal (same state, newer clock) from a change", () => {
  const store = new AwarenessStore();
  const renewal = (entries: Parameters<AwarenessStore["apply"]>[0]) => store.apply(entries).map((e) => e.renewal);
  assert.deepEqual(renewal([{ clientId: 1, clock: 1, state: '{"c":1}' }]), [false], "a newcomer is a change");
  assert.deepEqual(renewal([{ clientId: 1, clock: 2, state: '{"c":1}' }]), [true], "the same state again is a renewal");
  assert.deepEqual(renewal([{ clientId: 1, clock: 3, state: '{"c":2}' }]), [false], "a moved cursor is a change");
  assert.deepEqual(renewal([{ clientId: 1, clock: 4, state: "null" }]), [false], "a removal is a change");
  assert.deepEqual(renewal([{ clientId: 1, clock: 5, state: "null" }]), [false], "and stays one");
});

test("finds echoes stale without decoding them, and nothing else", () => {
  const store = new AwarenessStore();
  const live = { clientId: 300, clock: 4, state: '{"user":"ann"}' };
  const gone = { clientId: 9, clock: 2, state: "null" };
  store.apply([live, gone]);
  const stale = (...entries: Parameters<AwarenessStore["apply"]>[0]) => store.isStale(encodeAwarenessUpdate(entries));
  assert.equal(stale(live, gone), true, "an echo of what the store holds");
  assert.equal(stale({ ...live, clock: 3 }), true, "an older clock");
  assert.equal(stale({ ...live, clock: 5 }), false, "a newer clock");
  assert.equal(stale(live, { clientId: 12, clock: 1, state: "{}" }), false, "an unknown client after a stale one");
  assert.equal(stale({ ...live, state: "null" }), false, "a removal at the same clock applies");
  assert.equal(stale({ ...gone, state: "null" }), true, "a second removal does not");
  assert.equal(stale({ ...live, state: "nul!" }), true, "four bytes that are not null");
  const truncated = encodeAwarenessUpdate([live]).subarray(0, 6);
  assert.equal(store.isStale(truncated), false, "a truncated message is left to the full decode");
});
