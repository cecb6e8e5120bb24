/**
 * The fault test's checks (fault-ledger.ts) on made-up histories: each finds what it is for
 * and passes a history without it, so a clean fault run means something.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { badStatuses, duplicateAcks, instanceStarts, longestAckGap, lostWrites, overlaps, staleReads, type Done } from "./fault-ledger.js";

function entry(fields: Partial<Done> & Pick<Done, "op" | "n" | "sentAt" | "doneAt">): Done {
  return { room: "r", id: `id${fields.n}`, instance: "a", node: "n0", t: fields.sentAt, via: "http", ...fields };
}

test("lostWrites: an acknowledged number whose inc: entry or counter PostgreSQL lacks", () => {
  const acks = [entry({ op: "incr", n: 1, sentAt: 0, doneAt: 1 }), entry({ op: "incr", n: 2, sentAt: 2, doneAt: 3 })];
  const stored = new Map([["r", new Map<string, unknown>([["counter", 2], ["inc:1", "id1"], ["inc:2", "id2"]])]]);
  assert.deepEqual(lostWrites(acks, stored), []);
  const overwritten = new Map([["r", new Map<string, unknown>([["counter", 2], ["inc:1", "id1"], ["inc:2", "other"]])]]);
  assert.deepEqual(lostWrites(acks, overwritten), [acks[1]]);
  const behind = new Map([["r", new Map<string, unknown>([["counter", 1], ["inc:1", "id1"], ["inc:2", "id2"]])]]);
  assert.deepEqual(lostWrites(acks, behind), [acks[1]]);
  assert.equal(lostWrites(acks, new Map()).length, 2);
});

test("duplicateAcks: one number acknowledged to two requests", () => {
  const a = entry({ op: "incr", n: 5, sentAt: 0, doneAt: 1, id: "x" });
  const b = entry({ op: "incr", n: 5, sentAt: 0, doneAt: 2, id: "y" });
  assert.deepEqual(duplicateAcks([a, entry({ op: "incr", n: 6, sentAt: 0, doneAt: 3 })]), []);
  assert.deepEqual(duplicateAcks([a, b]), [[a, b]]);
  assert.deepEqual(duplicateAcks([a, { ...b, room: "other" }]), []);
});

test("staleReads: a read or increment sent after an acknowledgement that does not see it", () => {
  const acked = entry({ op: "incr", n: 3, sentAt: 0, doneAt: 10 });
  // Sent before the acknowledgement arrived: any value is allowed.
  assert.deepEqual(staleReads([acked, entry({ op: "read", n: 2, sentAt: 9, doneAt: 20 })]), []);
  assert.deepEqual(staleReads([acked, entry({ op: "read", n: 3, sentAt: 11, doneAt: 20 })]), []);
  const stale = entry({ op: "read", n: 2, sentAt: 11, doneAt: 20 });
  assert.deepEqual(staleReads([acked, stale]), [{ entry: stale, newestAcked: 3 }]);
  // An increment that answers 3 again did not see the acknowledged 3: a lost update.
  const blind = entry({ op: "incr", n: 3, sentAt: 11, doneAt: 20, id: "z" });
  assert.deepEqual(staleReads([acked, blind]), [{ entry: blind, newestAcked: 3 }]);
  assert.deepEqual(staleReads([acked, { ...stale, room: "other" }]), []);
});

test("overlaps: an instance that still began events after a later instance of the room started", () => {
  const starts = instanceStarts([
    '{"faultStart":"r","instance":"a","node":"n0","t":0}\n',
    'noise {"faultStart":"r","instance":"b","node":"n1","t":100}\n',
  ]);
  assert.equal(starts.length, 2);
  const clean = [entry({ op: "read", n: 0, sentAt: 0, doneAt: 1, t: 50 }), entry({ op: "read", n: 0, sentAt: 0, doneAt: 1, t: 150, instance: "b", node: "n1" })];
  assert.deepEqual(overlaps(clean, starts), []);
  const late = entry({ op: "read", n: 0, sentAt: 0, doneAt: 1, t: 120 });
  const found = overlaps([...clean, late], starts);
  assert.equal(found.length, 1);
  assert.deepEqual(found[0]!.earlier, { instance: "a", node: "n0", lastEventAt: 120 });
  // An instance without an onStart line starts at its first event.
  const unlogged = [90, 110].map((t) => entry({ op: "read", n: 0, sentAt: 0, doneAt: 1, t, instance: "c" }));
  assert.deepEqual(
    overlaps([...clean, ...unlogged], starts).map((overlap) => [overlap.earlier.instance, overlap.later.instance]),
    [["c", "b"]],
  );
});

test("badStatuses: only 2xx, 101 and 503 with Retry-After pass", () => {
  const at = 0;
  const statuses = [
    { via: "http" as const, status: 200, retryAfter: undefined, at },
    { via: "ws" as const, status: 101, retryAfter: undefined, at },
    { via: "http" as const, status: 503, retryAfter: "1", at },
    { via: "http" as const, status: 503, retryAfter: undefined, at },
    { via: "ws" as const, status: 500, retryAfter: undefined, at },
  ];
  assert.deepEqual(badStatuses(statuses), statuses.slice(3));
});

test("longestAckGap: the longest stretch a room went unacknowledged, up to its first acknowledgement after the window", () => {
  const acks = [1, 2, 9, 30].map((doneAt, i) => entry({ op: "incr", n: i + 1, sentAt: doneAt - 1, doneAt }));
  assert.equal(longestAckGap(acks, ["r"], 0, 5), 7);
  assert.equal(longestAckGap(acks, ["r"], 0, 10), 21);
  assert.equal(longestAckGap(acks, ["r"], 3, 5), 6);
  // A room never acknowledged again: the whole window.
  assert.equal(longestAckGap(acks, ["silent"], 0, 5), 5);
});
