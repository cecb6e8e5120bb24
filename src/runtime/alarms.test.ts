import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, it } from "node:test";
import type * as Party from "../types/party.js";
import { startTestServer, type TestServer } from "../testing/index.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function eventually(check: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await sleep(20);
  }
}

/** Records, in storage, every alarm it saw and what the room looked like then. */
class Alarmed implements Party.Server {
  static log: string[] = [];
  constructor(readonly room: Party.Room) {
    Alarmed.log.push(`construct ${room.id}`);
  }
  async onStart() {
    Alarmed.log.push(`start ${this.room.id}`);
  }
  async onRequest(req: Party.Request) {
    const url = new URL(req.url);
    const inMs = Number(url.searchParams.get("in") ?? "50");
    await this.room.storage.put("failuresLeft", Number(url.searchParams.get("fail") ?? "0"));
    await this.room.storage.setAlarm(Date.now() + inMs);
    return new Response(String(await this.room.storage.getAlarm()));
  }
  async onAlarm() {
    const during = await this.room.storage.getAlarm();
    const failuresLeft = (await this.room.storage.get<number>("failuresLeft")) ?? 0;
    Alarmed.log.push(`alarm ${this.room.id} getAlarm=${during} failuresLeft=${failuresLeft}`);
    if (failuresLeft > 0) {
      await this.room.storage.put("failuresLeft", failuresLeft - 1);
      throw new Error("alarm handler failed");
    }
    await this.room.storage.put("fired", this.room.id);
  }
}

describe("alarms through the runtime", () => {
  it("wakes a cold room (constructor and onStart first) with room.id available", async () => {
    Alarmed.log = [];
    const s = (server = await startTestServer({ parties: Alarmed, memory: true, evictAfterMs: 20 }));
    const set = Number(await (await s.fetch("/parties/main/cold?in=300")).text());
    assert.ok(set > Date.now() - 1000, "getAlarm returns the time just set");
    await eventually(() => s.server.stats().rooms === 0); // evicted before the alarm is due
    Alarmed.log.length = 0;
    await eventually(() => Alarmed.log.some((l) => l.startsWith("alarm")));
    assert.deepEqual(Alarmed.log, ["construct cold", "start cold", "alarm cold getAlarm=null failuresLeft=0"]);
  });

  it("retries a throwing onAlarm with backoff until it succeeds", async () => {
    Alarmed.log = [];
    const s = (server = await startTestServer({ parties: Alarmed, memory: true, alarmRetryBaseMs: 40 }));
    const started = Date.now();
    await s.fetch("/parties/main/flaky?in=10&fail=2");
    await eventually(() => Alarmed.log.filter((l) => l.startsWith("alarm")).length === 3);
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 40 + 80, `two retries wait 40 + 80 ms, took ${elapsed}`);
    assert.deepEqual(
      Alarmed.log.filter((l) => l.startsWith("alarm")),
      [
        "alarm flaky getAlarm=null failuresLeft=2",
        "alarm flaky getAlarm=null failuresLeft=1",
        "alarm flaky getAlarm=null failuresLeft=0",
      ],
    );
  });

  it("fires an alarm that came due while the server was down, after the next start", async () => {
    Alarmed.log = [];
    const dataDir = mkdtempSync(join(tmpdir(), "partyhouse-alarm-"));
    try {
      const first = await startTestServer({ parties: Alarmed, dataDir });
      await first.fetch("/parties/main/later?in=400");
      await first.close();
      await sleep(500);
      assert.equal(Alarmed.log.filter((l) => l.startsWith("alarm")).length, 0, "nothing fired while down");
      server = await startTestServer({ parties: Alarmed, dataDir });
      await eventually(() => Alarmed.log.some((l) => l.startsWith("alarm later")));
    } finally {
      await server?.close();
      server = undefined;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
