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
