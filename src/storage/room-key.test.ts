import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { roomKey } from "./room-key.js";

test("roomKey: two rooms share a key only if they are the same room, whatever their names contain", () => {
  // Separators a naive encoding would confuse: "/", NUL, ":" and digits.
  const name = fc.string({ unit: fc.constantFrom("a", "/", "\0", ":", "1", "é"), maxLength: 8 });
  // A second room made of the same characters split elsewhere (the collisions a naive key has).
  const pair = fc.tuple(name, name, name).chain(([party, room, other]) =>
    fc.nat(party.length + room.length + other.length).map((cut) => {
      const all = party + room + other;
      return [{ party, room }, { party: all.slice(0, cut), room: all.slice(cut) }] as const;
    }),
  );
  fc.assert(
    fc.property(fc.oneof(pair, fc.tuple(fc.record({ party: name, room: name }), fc.record({ party: name, room: name }))), ([a, b]) => {
      const same = a.party === b.party && a.room === b.room;
      assert.equal(roomKey(a) === roomKey(b), same, JSON.stringify([a, b]));
    }),
    { numRuns: 3000 },
  );
});
