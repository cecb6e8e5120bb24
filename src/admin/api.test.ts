import assert from "node:assert/strict";
import { afterEach, describe, it } from "node:test";
import { startTestServer, type TestServer } from "../testing/index.js";
import { Notes, eventually, getJson } from "./test-support.js";

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

class Other {
  onRequest() {
    return new Response("other");
  }
}

describe("admin API", () => {
  it("lists parties with live counts", async () => {
    const s = (server = await startTestServer({ parties: { main: Notes, other: Other }, memory: true, admin: { port: 0 } }));
    const socket = await s.connect("/parties/main/r1?_pk=a");
    socket.send("hi");
    await socket.nextText();
    const { status, body } = await getJson(`${s.server.adminUrl}/api/parties`);
    assert.equal(status, 200);
    assert.deepEqual(body.parties, [
      { name: "main", known: 1, resident: 1, hibernated: 0, sockets: 1 },
      { name: "other", known: 0, resident: 0, hibernated: 0, sockets: 0 },
    ]);
    assert.equal((await getJson(`${s.server.adminUrl}/api/parties/nope/rooms`)).status, 404);
  });

  it("lists live rooms and rooms that exist only in storage, paged by cursor", async () => {
    const s = (server = await startTestServer({ parties: Notes, admin: { port: 0 }, evictAfterMs: 50, hibernateAfterMs: 60_000 }));
    for (const id of ["s1", "s2", "s3"]) assert.equal(await (await s.fetch(`/parties/main/${id}?put=k`)).text(), "stored");
    // Evicted from memory: they now exist only in storage.
    await eventually(() => s.server.stats().rooms === 0);
    const live = await s.connect("/parties/main/l1?_pk=x");
    live.send("hi");
    await live.nextText();
    const first = await getJson(`${s.server.adminUrl}/api/parties/main/rooms?limit=2`);
    assert.equal(first.status, 200);
    assert.deepEqual(first.body.rooms.map((r: { id: string }) => r.id), ["l1", "s1"]);
    assert.deepEqual(first.body.rooms[0], { id: "l1", live: true, stored: false, resident: true, hibernated: false, sockets: 1 });
    assert.deepEqual(first.body.rooms[1], { id: "s1", live: false, stored: true, resident: false, hibernated: false, sockets: 0 });
    const second = await getJson(`${s.server.adminUrl}/api/parties/main/rooms?limit=2&cursor=${first.body.next}`);
    assert.deepEqual(second.body.rooms.map((r: { id: string }) => r.id), ["s2", "s3"]);
    assert.equal(second.body.next, null);
    assert.equal((await getJson(`${s.server.adminUrl}/api/parties/main/rooms?limit=0`)).status, 400);
    assert.equal((await getJson(`${s.server.adminUrl}/api/parties/main/rooms?cursor=%%`)).status, 400);
  });

  it("paging is stable while rooms are created and deleted: every room present throughout is listed once", async () => {
    const s = (server = await startTestServer({ parties: Notes, memory: true, admin: { port: 0 } }));
    const steady = Array.from({ length: 30 }, (_, i) => `room-${String(i).padStart(2, "0")}`);
    for (const id of steady) await s.fetch(`/parties/main/${id}?put=k`);
    const seen: string[] = [];
    let cursor: string | null = null;
    let round = 0;
    do {
      const query: string = cursor === null ? "" : `&cursor=${cursor}`;
      const page = await getJson(`${s.server.adminUrl}/api/parties/main/rooms?limit=7${query}`);
      seen.push(...page.body.rooms.map((r: { id: string }) => r.id));
      cursor = page.body.next;
      // Between pages: new rooms before and after the cursor, in memory and in storage.
      await s.fetch(`/parties/main/aaa-${round}?put=k`);
      await s.fetch(`/parties/main/zzz-${round}?put=k`);
      round++;
    } while (cursor !== null && round < 50);
    const listedSteady = seen.filter((id) => id.startsWith("room-"));
    assert.deepEqual(listedSteady, steady, "each steady room once, in order");
    assert.equal(new Set(seen).size, seen.length, "no duplicates");
  });

  it("shows a room's connections, alarm and keys without waking it when hibernated", async () => {
    const s = (server = await startTestServer({ parties: Notes, memory: true, admin: { port: 0 }, hibernateAfterMs: 50 }));
    const alice = await s.connect("/parties/main/h1?_pk=alice&team=red");
    for (const message of ["state:Alice", "put:greeting=\"hi\"", "put:n={\"a\":[1,2]}", "map", "alarm"]) {
      alice.send(message);
      assert.equal(await alice.nextText(), "ok");
    }
    await eventually(() => s.server.stats().resident === 0);
    const builtBefore = Notes.built;
    const { status, body } = await getJson(`${s.server.adminUrl}/api/parties/main/rooms/h1`);
    assert.equal(status, 200);
    assert.equal(body.live, true);
    assert.equal(body.hibernated, true);
    assert.equal(body.resident, false);
    assert.equal(body.sockets, 1);
    assert.deepEqual(body.connections, [
      { id: "alice", uri: `${s.url}/parties/main/h1?_pk=alice&team=red`, tags: ["red"], state: { json: { name: "Alice" } }, open: true },
    ]);
    assert.equal(typeof body.alarm.time, "number");
    assert.equal(body.alarm.iso, new Date(body.alarm.time).toISOString());
    assert.deepEqual(body.storage.keys, [
      { key: "a-map", size: body.storage.keys[0].size, type: "Map" },
      { key: "greeting", size: body.storage.keys[1].size, type: "json" },
      { key: "n", size: body.storage.keys[2].size, type: "json" },
    ]);
    const prefixed = await getJson(`${s.server.adminUrl}/api/parties/main/rooms/h1?prefix=g`);
    assert.deepEqual(prefixed.body.storage.keys.map((k: { key: string }) => k.key), ["greeting"]);
    const paged = await getJson(`${s.server.adminUrl}/api/parties/main/rooms/h1?limit=2`);
    assert.deepEqual(paged.body.storage.keys.map((k: { key: string }) => k.key), ["a-map", "greeting"]);
    const rest = await getJson(`${s.server.adminUrl}/api/parties/main/rooms/h1?limit=2&cursor=${paged.body.storage.next}`);
    assert.deepEqual(rest.body.storage.keys.map((k: { key: string }) => k.key), ["n"]);

    assert.deepEqual((await getJson(`${s.server.adminUrl}/api/parties/main/rooms/h1/storage/n`)).body, {
      party: "main",
      room: "h1",
      key: "n",
      size: (await getJson(`${s.server.adminUrl}/api/parties/main/rooms/h1/storage/n`)).body.size,
      json: { a: [1, 2] },
    });
    const map = (await getJson(`${s.server.adminUrl}/api/parties/main/rooms/h1/storage/a-map`)).body;
    assert.equal(map.type, "Map");
    assert.equal(map.entries, 1, "a Map shows its entry count as entries");
    assert.equal(map.size, body.storage.keys[0].size, "size stays the stored byte size, as in the key listing");
    assert.ok(map.size > 1, "the stored bytes of a one-entry Map, not its entry count");
    assert.equal((await getJson(`${s.server.adminUrl}/api/parties/main/rooms/h1/storage/missing`)).status, 404);

    assert.equal(Notes.built, builtBefore, "no instance was built");
    assert.equal(s.server.stats().resident, 0, "the room is still hibernated");
  });

  it("reading a room that is not running does not start it", async () => {
    const s = (server = await startTestServer({ parties: Notes, memory: true, admin: { port: 0 }, evictAfterMs: 50 }));
    await s.fetch("/parties/main/cold?put=a%2Fb&value=1");
    await eventually(() => s.server.stats().rooms === 0);
    const builtBefore = Notes.built;
    const { body } = await getJson(`${s.server.adminUrl}/api/parties/main/rooms/cold`);
    assert.equal(body.live, false);
    assert.deepEqual(body.connections, []);
    assert.deepEqual(body.storage.keys.map((k: { key: string }) => k.key), ["a/b"]);
    // Keys with a slash are one path segment, percent-encoded.
    assert.equal((await getJson(`${s.server.adminUrl}/api/parties/main/rooms/cold/storage/a%2Fb`)).body.json, "1");
    const never = await getJson(`${s.server.adminUrl}/api/parties/main/rooms/never-seen`);
    assert.equal(never.status, 200);
    assert.equal(never.body.live, false);
    assert.equal(Notes.built, builtBefore);
    assert.equal(s.server.stats().rooms, 0, "no room was created");
  });
});
