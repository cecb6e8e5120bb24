/**
 * mergeRoomPages against a model: walking a party's rooms page by page through the merge of
 * every worker's pages lists the union of all workers' rooms in memory and the store's rooms,
 * in order, each exactly once, with the right worker and flags.
 */
import { strict as assert } from "node:assert";
import { test } from "node:test";
import fc from "fast-check";
import { decodeCursor, encodeCursor, type RoomListPage } from "../admin/room-list.js";
import { compareKeys } from "../storage/keys.js";
import { mergeRoomPages } from "./room-pages.js";

/** A worker's page as src/admin/room-list.ts makes it: its live rooms and the store's, after the cursor. */
function workerPage(live: ReadonlySet<string>, stored: ReadonlySet<string>, cursor: string | undefined, limit: number): RoomListPage {
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  const ids = [...new Set([...live, ...stored])].filter((id) => after === undefined || compareKeys(id, after) > 0).sort(compareKeys);
  const page = ids.slice(0, limit);
  return {
    rooms: page.map((id) => ({ id, live: live.has(id), stored: stored.has(id), resident: live.has(id), hibernated: false, sockets: live.has(id) ? 1 : 0 })),
    next: ids.length > limit ? encodeCursor(page[page.length - 1]!) : null,
  };
}

const id = fc.string({ unit: fc.constantFrom("a", "b", "é", "😀", "Z"), minLength: 1, maxLength: 3 });

test("walking merged pages lists every room of every worker and of the store exactly once, in order", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uniqueArray(id, { maxLength: 12 }), { minLength: 1, maxLength: 4 }),
      fc.uniqueArray(id, { maxLength: 12 }),
      fc.integer({ min: 1, max: 5 }),
      (liveByWorker, storedIds, limit) => {
        // A room is in memory on one worker at most.
        const owner = new Map<string, number>();
        liveByWorker.forEach((ids, worker) => ids.forEach((room) => owner.has(room) || owner.set(room, worker)));
        const live = liveByWorker.map((_, worker) => new Set([...owner].filter(([, w]) => w === worker).map(([room]) => room)));
        const stored = new Set(storedIds);
        const expected = [...new Set([...owner.keys(), ...stored])].sort(compareKeys);

        const walked: string[] = [];
        let cursor: string | undefined;
        for (let pages = 0; pages <= expected.length + 1; pages++) {
          const merged = mergeRoomPages(live.map((set, worker) => ({ worker, page: workerPage(set, stored, cursor, limit) })), limit);
          assert.ok(merged.rooms.length <= limit);
          for (const room of merged.rooms) {
            walked.push(room.id);
            assert.equal(room.worker, owner.get(room.id) ?? null, `worker of ${room.id}`);
            assert.equal(room.live, owner.has(room.id));
            assert.equal(room.stored, stored.has(room.id));
          }
          if (merged.next === null) break;
          cursor = merged.next;
        }
        assert.deepEqual(walked, expected);
      },
    ),
    { numRuns: 500 },
  );
});
