/**
 * The admin API's data routes on a real server with SQLite storage: one room's export, deleting
 * a room's storage and alarm (refused while live unless forced), and the online snapshot.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterEach, describe, it } from "node:test";
import { startTestServer, type TestServer } from "../testing/index.js";
import type * as Party from "../types/party.js";
import { ExportReader } from "../data/export-reader.js";
import { SqliteStore } from "../data/sqlite-store.js";
import type { StoreRecord } from "../data/records.js";
import { eventually, getJson } from "./test-support.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Stores what requests say, sets alarms on demand, and counts the alarms that fired. */
class Keeper implements Party.Server {
  static fired: string[] = [];
  constructor(readonly room: Party.Room) {}
  async onRequest(request: Party.Request) {
    const url = new URL(request.url);
    if (url.searchParams.has("alarm")) await this.room.storage.setAlarm(Date.now() + Number(url.searchParams.get("alarm")));
    if (url.searchParams.has("map")) await this.room.storage.put("map", new Map([["a", 1n]]));
    const key = url.searchParams.get("put");
    if (key) await this.room.storage.put(key, url.searchParams.get("value"));
    return new Response("stored");
  }
  onConnect(connection: Party.Connection) {
    connection.send("hi");
  }
  onAlarm() {
    Keeper.fired.push(this.room.id);
  }
}

async function recordsOf(text: string): Promise<StoreRecord[]> {
  const reader = await ExportReader.open(Readable.from([Buffer.from(text)]));
  const records: StoreRecord[] = [];
  for await (const batch of reader.records()) records.push(...batch);
  return records;
}

describe("admin data routes", () => {
  it("exports one room as an export file", async () => {
    const s = (server = await startTestServer({ parties: { main: Keeper }, admin: { port: 0 } }));
    await s.fetch("/parties/main/r1?put=greeting&value=hello&map=1&alarm=3600000");
    await s.fetch("/parties/main/r2?put=other&value=x");
    const response = await fetch(`${s.server.adminUrl}/api/parties/main/rooms/r1/export`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type")!, /application\/x-ndjson/);
    const records = await recordsOf(await response.text());
    assert.deepEqual(
      records.map((record) => (record.kind === "entry" ? `${record.room} ${record.key.toString()}` : `${record.room} ${record.kind}`)),
      ["r1 greeting", "r1 map", "r1 alarm", "r1 end"],
    );
    assert.equal((await fetch(`${s.server.adminUrl}/api/parties/nope/rooms/r1/export`)).status, 404);
  });

  it("refuses to delete a live room's storage unless forced; forced, its sockets close with 1012 and its alarm is gone", async () => {
    Keeper.fired = [];
    const s = (server = await startTestServer({ parties: { main: Keeper }, admin: { port: 0 } }));
    await s.fetch("/parties/main/live?put=k&value=v&alarm=400");
    const socket = await s.connect("/parties/main/live");
    assert.equal(await socket.nextText(), "hi");
    const url = `${s.server.adminUrl}/api/parties/main/rooms/live/storage`;
    const refused = await getJson(url, { method: "DELETE" });
    assert.equal(refused.status, 409);
    assert.equal(refused.body.sockets, 1);
    const deleted = await getJson(`${url}?force=true`, { method: "DELETE" });
    assert.equal(deleted.status, 200);
    assert.deepEqual(deleted.body, { party: "main", room: "live", deleted: true, closedSockets: 1 });
    assert.equal((await socket.closed).code, 1012);
    const room = await getJson(`${s.server.adminUrl}/api/parties/main/rooms/live`);
    assert.deepEqual(room.body.storage.keys, []);
    assert.equal(room.body.alarm, null);
    // The alarm was due 400 ms after it was set: it must not fire any more.
    await new Promise((resolve) => setTimeout(resolve, 700));
    assert.deepEqual(Keeper.fired, []);
  });

  it("deletes a room that is not live without force", async () => {
    const s = (server = await startTestServer({ parties: { main: Keeper }, admin: { port: 0 }, evictAfterMs: 50 }));
    await s.fetch("/parties/main/cold?put=k&value=v&alarm=3600000");
    await eventually(() => s.server.stats().rooms === 0);
    const deleted = await getJson(`${s.server.adminUrl}/api/parties/main/rooms/cold/storage`, { method: "DELETE" });
    assert.equal(deleted.status, 200);
    const rooms = await getJson(`${s.server.adminUrl}/api/parties/main/rooms`);
    assert.deepEqual(rooms.body.rooms, []);
  });

  it("serves a consistent SQLite snapshot of the whole store; a memory store has none", async () => {
    const s = (server = await startTestServer({ parties: { main: Keeper }, admin: { port: 0 } }));
    for (let i = 0; i < 20; i++) await s.fetch(`/parties/main/room-${i}?put=k${i}&value=v${i}`);
    const response = await fetch(`${s.server.adminUrl}/api/snapshot`);
    assert.equal(response.status, 200);
    assert.ok(response.headers.get("x-partyhouse-snapshot-at"));
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "partyhouse-snap-")), "copy.sqlite3");
    fs.writeFileSync(file, Buffer.from(await response.arrayBuffer()));
    const store = SqliteStore.openSnapshot(file, "copy");
    const rooms: string[] = [];
    for await (const batch of store.records({})) for (const record of batch) if (record.kind === "end") rooms.push(record.room);
    await store.close();
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
    assert.equal(rooms.length, 20);
    // Nothing of the copy is left in the data folder once it was sent.
    await eventually(() => fs.readdirSync(s.dataDir!).every((name) => !name.includes("snapshot")));
    await server.close();
    const memory = (server = await startTestServer({ parties: { main: Keeper }, memory: true, admin: { port: 0 } }));
    assert.equal((await fetch(`${memory.server.adminUrl}/api/snapshot`)).status, 409);
  });

  it("needs the token for data routes, and DELETE only where storage is deleted", async () => {
    const token = "a-token-of-sixteen-chars";
    const s = (server = await startTestServer({ parties: { main: Keeper }, admin: { port: 0, token } }));
    await s.fetch("/parties/main/r?put=k&value=v");
    assert.equal((await fetch(`${s.server.adminUrl}/api/parties/main/rooms/r/storage`, { method: "DELETE" })).status, 401);
    assert.equal((await fetch(`${s.server.adminUrl}/api/snapshot`)).status, 401);
    const auth = { authorization: `Bearer ${token}` };
    assert.equal((await fetch(`${s.server.adminUrl}/api/parties/main/rooms/r/export`, { headers: auth })).status, 200);
    assert.equal((await fetch(`${s.server.adminUrl}/api/parties`, { method: "DELETE", headers: auth })).status, 405);
    assert.equal((await fetch(`${s.server.adminUrl}/healthz`, { method: "DELETE" })).status, 405);
  });
});
