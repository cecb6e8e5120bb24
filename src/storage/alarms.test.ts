import { describe, test, afterEach } from "node:test";
import assert from "node:assert/strict";
import { ENGINE_KINDS, Harness, RecordingHooks, nextMacrotask } from "./test-support.js";

const T = 4_102_444_800_000; // 2100-01-01

for (const kind of ENGINE_KINDS) {
  describe(`alarms on the ${kind} engine`, () => {
    let harness: Harness;
    afterEach(async () => harness.dispose());

    test("set, replace, delete; Date accepted; alarmCommitted after each durable change", async () => {
      harness = await Harness.create(kind);
      const hooks = new RecordingHooks();
      const storage = harness.room("r", hooks);
      assert.equal(await storage.getAlarm(), null);
      void storage.setAlarm(T);
      assert.equal(await storage.getAlarm(), T, "visible before it is durable");
      assert.deepEqual(hooks.alarms, []);
      await storage.sync();
      assert.deepEqual(hooks.alarms, [T]);
      await storage.setAlarm(new Date(T + 1));
      assert.equal(await storage.getAlarm(), T + 1);
      await storage.sync();
      await storage.deleteAlarm();
      assert.equal(await storage.getAlarm(), null);
      await storage.sync();
      assert.deepEqual(hooks.alarms, [T, T + 1, null]);
      await assert.rejects(storage.setAlarm(new Date(NaN)), TypeError);
    });

    test("alarms survive a restart and are listed for the scheduler", async () => {
      harness = await Harness.create(kind);
      await harness.room("a").setAlarm(T);
      await harness.room("b").setAlarm(T + 5);
      await harness.room("c").put("no alarm", true);
      await harness.room("c").sync(); // one group commit carries all three rooms
      assert.deepEqual(
        (await harness.service.listAlarms()).map((alarm) => [alarm.room.room, alarm.time]).sort(),
        [["a", T], ["b", T + 5]],
      );
      const reopened = await harness.reopenIfDurable("a");
      if (reopened) {
        assert.equal(await reopened.getAlarm(), T);
        assert.deepEqual(
          (await harness.service.listAlarms()).map((alarm) => [alarm.room.party, alarm.room.room, alarm.time]).sort(),
          [["main", "a", T], ["main", "b", T + 5]],
        );
      }
    });

    test("while onAlarm runs getAlarm() is null; success clears the stored alarm", async () => {
      harness = await Harness.create(kind);
      const storage = harness.room();
      await storage.setAlarm(T);
      storage.beginAlarm(T);
      assert.equal(await storage.getAlarm(), null);
      storage.endAlarm(T, true);
      assert.equal(await storage.getAlarm(), null);
      await storage.sync();
      assert.deepEqual(await harness.service.listAlarms(), []);
    });

    test("a failed onAlarm keeps the alarm stored and visible again", async () => {
      harness = await Harness.create(kind);
      const storage = harness.room();
      await storage.setAlarm(T);
      storage.beginAlarm(T);
      assert.equal(await storage.getAlarm(), null);
      storage.endAlarm(T, false);
      assert.equal(await storage.getAlarm(), T);
      await storage.sync();
      assert.equal((await harness.service.listAlarms()).length, 1);
    });

    test("an alarm set inside onAlarm replaces the firing one and is kept", async () => {
      harness = await Harness.create(kind);
      const storage = harness.room();
      await storage.setAlarm(T);
      storage.beginAlarm(T);
      await storage.setAlarm(T + 1000);
      assert.equal(await storage.getAlarm(), T + 1000);
      storage.endAlarm(T, true);
      await storage.sync();
      assert.equal(await storage.getAlarm(), T + 1000);
      assert.deepEqual((await harness.service.listAlarms()).map((alarm) => alarm.time), [T + 1000]);
      // Even the same time set again inside the handler is a new alarm.
      storage.beginAlarm(T + 1000);
      await storage.setAlarm(T + 1000);
      storage.endAlarm(T + 1000, true);
      await storage.sync();
      assert.equal(await storage.getAlarm(), T + 1000);
    });

    test("a cold room woken by its alarm clears it on success", async () => {
      harness = await Harness.create(kind);
      await harness.room().setAlarm(T);
      const cold = (await harness.reopenIfDurable()) ?? harness.room();
      cold.beginAlarm(T);
      cold.endAlarm(T, true);
      await cold.sync();
      await nextMacrotask();
      assert.deepEqual(await harness.service.listAlarms(), []);
      assert.equal(await cold.getAlarm(), null);
    });
  });
}
