import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { startTestServer, type TestServer } from "../testing/index.js";
import { Notes, eventually } from "../admin/test-support.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** The value of one series in Prometheus text, e.g. `partyhouse_connects_total{party="main"}`. */
function sample(text: string, series: string): number | undefined {
  for (const line of text.split("\n")) {
    if (line.startsWith(series + " ")) return Number(line.slice(series.length + 1));
  }
  return undefined;
}

async function scrape(s: TestServer): Promise<string> {
  return (await fetch(`${s.server.adminUrl}/metrics`)).text();
}

describe("metrics", () => {
  it("counts rooms, sockets, messages, bytes, HTTP classes, wakes, commits, handler errors and alarms per party", async () => {
    const s = (server = await startTestServer({ parties: Notes, admin: { port: 0 }, hibernateAfterMs: 1000, alarmRetryBaseMs: 10, maxBodyBytes: 16 }));
    const a = await s.connect("/parties/main/m1?_pk=a");
    const b = await s.connect("/parties/main/m1?_pk=b");
    a.send("put:k=1"); // 7 bytes in
    assert.equal(await a.nextText(), "ok");
    a.send("broadcast"); // a broadcast to two sockets, then "ok" to a
    await a.nextText();
    await b.nextText();
    await a.nextText();
    a.send("throw");
    a.send("throw"); // the same error twice: counted twice
    await (await s.fetch("/parties/main/m1")).text();
    await (await s.fetch("/parties/main/m1?fail")).text();
    await (await s.fetch("/parties/nope/x")).text();
    await (await s.fetch("/nothing-here")).text();
    // Refused before any handler runs (body over the limit): still a response of party main.
    const refused = await s.fetch("/parties/main/m1", { method: "POST", body: "x".repeat(17) });
    assert.equal(refused.status, 413);
    await refused.text();

    // A response is counted on its "finish" event, which may come after the client has it.
    await eventually(async () => {
      const counted = await scrape(s);
      return (
        sample(counted, 'partyhouse_http_requests_total{party="",status_class="4xx"}') === 2 &&
        sample(counted, 'partyhouse_http_requests_total{party="main",status_class="4xx"}') === 1
      );
    });
    let text = await scrape(s);
    assert.equal(sample(text, 'partyhouse_rooms{party="main"}'), 1);
    assert.equal(sample(text, 'partyhouse_rooms_resident{party="main"}'), 1);
    assert.equal(sample(text, 'partyhouse_sockets_open{party="main"}'), 2);
    assert.equal(sample(text, 'partyhouse_connects_total{party="main"}'), 2);
    assert.equal(sample(text, 'partyhouse_messages_in_total{party="main"}'), 4);
    assert.equal(sample(text, 'partyhouse_message_bytes_in_total{party="main"}'), 7 + 9 + 5 + 5);
    // "ok", "hello all" x2, "ok": 4 frames of 2 + payload bytes.
    assert.equal(sample(text, 'partyhouse_messages_out_total{party="main"}'), 4);
    assert.equal(sample(text, 'partyhouse_message_bytes_out_total{party="main"}'), 4 + 11 * 2 + 4);
    assert.equal(sample(text, 'partyhouse_handler_errors_total{party="main",handler="onMessage"}'), 2);
    assert.equal(sample(text, 'partyhouse_http_requests_total{party="main",status_class="2xx"}'), 1);
    assert.equal(sample(text, 'partyhouse_http_requests_total{party="main",status_class="5xx"}'), 1);
    assert.equal(sample(text, 'partyhouse_http_requests_total{party="main",status_class="4xx"}'), 1, "the refused request");
    assert.equal(sample(text, 'partyhouse_http_requests_total{party="",status_class="4xx"}'), 2, "unknown parties share one label");
    assert.equal(sample(text, 'partyhouse_room_start_seconds_count{party="main",kind="cold"}'), 1);
    assert.ok(sample(text, "partyhouse_storage_commit_seconds_count")! >= 1);
    assert.ok(sample(text, "partyhouse_storage_commit_rooms_sum")! >= 1);
    assert.ok(text.includes("nodejs_eventloop_lag_p99_seconds"), "event-loop delay from the default metrics");
    assert.ok(text.includes("process_resident_memory_bytes"), "process defaults");
    assert.doesNotMatch(text, /room="/, "never a per-room label");

    // Hibernate, then wake with a message: one wake observed.
    await eventually(async () => sample(await scrape(s), 'partyhouse_rooms_hibernated{party="main"}') === 1);
    // On a loaded machine the room may also have hibernated (and woken) earlier: count the delta.
    const wakesBefore = sample(await scrape(s), 'partyhouse_room_start_seconds_count{party="main",kind="wake"}') ?? 0;
    a.send("hi");
    await a.nextText();
    text = await scrape(s);
    assert.equal(sample(text, 'partyhouse_room_start_seconds_count{party="main",kind="wake"}'), wakesBefore + 1);

    b.terminate();
    await eventually(async () => sample(await scrape(s), 'partyhouse_disconnects_total{party="main"}') === 1);
  });

  it("counts alarms fired and retried", async () => {
    let runs = 0;
    class Flaky {
      constructor(readonly room: { storage: { setAlarm(time: number): Promise<void> } }) {}
      async onRequest() {
        await this.room.storage.setAlarm(Date.now());
        return new Response("set");
      }
      onAlarm() {
        runs++;
        if (runs === 1) throw new Error("first run fails");
      }
    }
    const s = (server = await startTestServer({ parties: { main: Flaky }, memory: true, admin: { port: 0 }, alarmRetryBaseMs: 10 }));
    await (await s.fetch("/parties/main/al")).text();
    await eventually(() => runs === 2);
    const text = await scrape(s);
    assert.equal(sample(text, 'partyhouse_alarms_fired_total{party="main"}'), 2);
    assert.equal(sample(text, 'partyhouse_alarms_retried_total{party="main"}'), 1);
    assert.equal(sample(text, 'partyhouse_handler_errors_total{party="main",handler="onAlarm"}'), 1);
  });
});
