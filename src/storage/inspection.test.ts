import { describe, test, afterEach } from "node:test";
import assert from "node:assert/strict";
import type { CommitObservation } from "./contract.js";
import { ENGINE_KINDS, Harness, RecordingHooks } from "./test-support.js";

for (const kind of ENGINE_KINDS) {
  describe(`inspection on the ${kind} engine`, () => {
    let harness: Harness;
    afterEach(async () => harness.dispose());

    test("listRooms: rooms holding a key or an alarm, in UTF-8 byte order, paged after a cursor", async () => {
      harness = await Harness.create(kind);
      // "\u{1F600}" sorts after "\uFFFD" in UTF-8 but before it in UTF-16: byte order must win.
      const names = ["b", "a", "\uFFFD", "\u{1F600}", "c"];
      await Promise.all(names.map((name) => harness.room(name).put("k", 1)));
      await harness.room("alarm-only").setAlarm(Date.now() + 3_600_000);
      await harness.room("other", new RecordingHooks(), "other").put("k", 1);
      const emptied = harness.room("emptied");
      await emptied.put("k", 1);
      await emptied.sync();
      await emptied.delete("k");
      await emptied.sync();

      const all = await harness.engine.listRooms("main", undefined, 100);
      assert.deepEqual(all, ["a", "alarm-only", "b", "c", "\uFFFD", "\u{1F600}"]);
      assert.deepEqual(await harness.engine.listRooms("main", undefined, 2), ["a", "alarm-only"]);
      assert.deepEqual(await harness.engine.listRooms("main", "alarm-only", 2), ["b", "c"]);
      assert.deepEqual(await harness.engine.listRooms("main", "\uFFFD", 10), ["\u{1F600}"]);
      assert.deepEqual(await harness.engine.listRooms("other", undefined, 10), ["other"]);
      assert.deepEqual(await harness.engine.listRooms("nobody", undefined, 10), []);
    });

    test("ready() is true while open and false after close, with a reason", async () => {
      harness = await Harness.create(kind);
      assert.deepEqual(harness.service.ready(), { ok: true, reason: `storage open (${kind})` });
      await harness.service.close();
      const after = harness.service.ready();
      assert.equal(after.ok, false);
      assert.match(after.reason, /closed/);
    });

    test("a failed commit makes storage not ready until a commit succeeds; observers see every commit", async () => {
      harness = await Harness.create(kind);
      const seen: CommitObservation[] = [];
      const stop = harness.service.observeCommits((commit) => seen.push(commit));
      await Promise.all([harness.room("a").put({ x: 1, y: 2 }), harness.room("b").put("z", 3)]);
      await harness.room("b").sync();
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.rooms, 2);
      assert.equal(seen[0]!.keys, 3);
      assert.equal(seen[0]!.ok, true);
      assert.ok(seen[0]!.seconds >= 0);

      harness.engine.failNext = new Error("disk on fire");
      await harness.room("c").put("k", 1);
      await assert.rejects(harness.room("c").sync());
      assert.deepEqual(harness.service.ready(), { ok: false, reason: "last storage commit failed: disk on fire" });
      assert.equal(seen.at(-1)!.ok, false);

      await harness.room("d").put("k", 1);
      await harness.room("d").sync();
      assert.equal(harness.service.ready().ok, true);
      stop();
      await harness.room("e").put("k", 1);
      await harness.room("e").sync();
      assert.equal(seen.length, 3, "no observation after stop()");
    });
  });
}
