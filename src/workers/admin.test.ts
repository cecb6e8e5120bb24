/**
 * The supervisor's admin listener with real processes: /metrics and /readyz for every worker,
 * and the room API and inspector across the workers (admin-api.ts): counts added up, room lists
 * merged with each live room's worker, a room's routes answered by its worker, a snapshot that
 * is consistent across the workers' writes, and a stuck worker named instead of waited for.
 */
import { strict as assert } from "node:assert";
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import Database from "better-sqlite3";
import WebSocket from "ws";
import { ensureBuilt, spawnPartyhouse, type SpawnedServer } from "../cli/test-support.js";
import { fixtureProject, ownerPid, send, sleep } from "./test-support.js";

before(() => ensureBuilt());

async function startWithAdmin(extra: string[] = []): Promise<{ server: SpawnedServer; admin: string }> {
  const server = await spawnPartyhouse(["start", "--port", "0", "--host", "127.0.0.1", "--workers", "2", "--admin-port", "0", ...extra], {
    cwd: fixtureProject(),
    timeoutMs: 60_000,
  });
  const admin = /"url":"(http:\/\/[^"]+)","event":"admin listener ready"/.exec(
    server.output().split("\n").filter((line) => !line.includes('"worker"')).join("\n"),
  )?.[1];
  assert.ok(admin, `the supervisor's admin URL is logged:\n${server.output()}`);
  return { server, admin };
}

async function json<T>(base: string, path: string, method = "GET"): Promise<{ status: number; body: T }> {
  const answer = await send(base, path, { method });
  return { status: answer.status, body: JSON.parse(answer.body) as T };
}

interface RoomEntry {
  id: string;
  live: boolean;
  stored: boolean;
  sockets: number;
  worker: number | null;
}

function openSocket(base: string, room: string): Promise<WebSocket> {
  const ws = new WebSocket(`${base.replace("http", "ws")}/parties/main/${room}`);
  return new Promise((resolve, reject) => {
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

describe("the admin listener with --workers", () => {
  let server: SpawnedServer;
  let admin: string;
  const sockets: WebSocket[] = [];
  /** Room → pid of the worker process serving it. */
  const pids = new Map<string, number>();
  const rooms = Array.from({ length: 7 }, (_, i) => `admin-${i}`);
  /** A room of each worker, with one socket open. */
  const withSocket: string[] = [];

  before(async () => {
    ({ server, admin } = await startWithAdmin());
    for (const room of rooms) {
      assert.equal((await send(server.url, `/parties/main/${room}?write=1`, { method: "POST" })).status, 200);
      pids.set(room, await ownerPid(server.url, room));
    }
    assert.equal(new Set(pids.values()).size, 2, "both workers hold rooms");
    // One socket in a room of each worker.
    withSocket.push(...new Map([...pids].map(([room, pid]) => [pid, room])).values());
    for (const room of withSocket) sockets.push(await openSocket(server.url, room));
  });

  after(async () => {
    for (const socket of sockets) socket.close();
    await server.stop();
  });

  test("/metrics shows every worker with a worker label; /readyz counts workers", async () => {
    const metrics = await send(admin, "/metrics");
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /^partyhouse_workers\{state="ready"\} 2$/m);
    for (const worker of [0, 1]) assert.match(metrics.body, new RegExp(`^partyhouse_rooms\\{worker="${worker}",party="main"\\} \\d+$`, "m"));
    assert.equal((metrics.body.match(/^# TYPE partyhouse_rooms /gm) ?? []).length, 1);
    const ready = await send(admin, "/readyz");
    assert.equal(ready.status, 200);
    assert.match(ready.body, /2 workers take rooms/);
  });

  test("/api/parties adds up every worker's rooms and sockets", async () => {
    const { status, body } = await json<{ parties: Array<{ name: string; known: number; sockets: number }>; unansweredWorkers: number[] }>(admin, "/api/parties");
    assert.equal(status, 200);
    const main = body.parties.find((party) => party.name === "main");
    assert.ok(main);
    assert.equal(main.sockets, 2, "one socket on each worker");
    assert.ok(main.known >= rooms.length, `${main.known} rooms known`);
    assert.deepEqual(body.unansweredWorkers, []);
  });

  test("the room list walks every room once, each live one labelled with the worker that holds it", async () => {
    const walked: RoomEntry[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { rooms: RoomEntry[]; next: string | null } } = await json(admin, `/api/parties/main/rooms?limit=2${cursor === null ? "" : `&cursor=${cursor}`}`);
      assert.equal(page.status, 200);
      assert.ok(page.body.rooms.length <= 2);
      walked.push(...page.body.rooms);
      cursor = page.body.next;
    } while (cursor !== null);
    const ours = walked.filter((room) => pids.has(room.id));
    assert.deepEqual(ours.map((room) => room.id), [...rooms].sort(), "each room once, in order");
    assert.equal(new Set(walked.map((room) => room.id)).size, walked.length);
    // Rooms of one process carry one worker label, rooms of the other process the other one.
    const labelOf = new Map<number, number>();
    for (const room of ours) {
      assert.ok(room.live && room.stored, `${room.id} is live and stored`);
      assert.equal(typeof room.worker, "number", `${room.id} has a worker`);
      const pid = pids.get(room.id)!;
      if (!labelOf.has(pid)) labelOf.set(pid, room.worker!);
      assert.equal(room.worker, labelOf.get(pid), `${room.id}: one label per worker process`);
    }
    assert.equal(new Set(labelOf.values()).size, 2);
    assert.equal(ours.reduce((sum, room) => sum + room.sockets, 0), 2);
  });

  test("a room's detail, value and export come from the worker that holds it", async () => {
    // Twice each, so an answer from whichever worker comes next in turn could not pass.
    for (const room of withSocket.flatMap((room) => [room, room])) {
      const { status, body } = await json<{ live: boolean; worker: number; sockets: number; connections: unknown[]; storage: { keys: Array<{ key: string }> } }>(
        admin,
        `/api/parties/main/rooms/${room}`,
      );
      assert.equal(status, 200);
      assert.equal(body.live, true);
      assert.equal(body.sockets, 1, `${room}'s socket is listed (it is on its worker)`);
      assert.equal(body.connections.length, 1);
      assert.equal(typeof body.worker, "number");
      assert.deepEqual(body.storage.keys.map((key) => key.key), ["w:00000001"]);
    }
    const value = await json<{ json: unknown }>(admin, `/api/parties/main/rooms/admin-0/storage/${encodeURIComponent("w:00000001")}`);
    assert.equal(value.status, 200);
    assert.equal(value.body.json, 1);
    const exported = await send(admin, "/api/parties/main/rooms/admin-0/export");
    assert.equal(exported.status, 200);
    assert.match(exported.body, /w:00000001|dzowMDAwMDAwMQ/);
    assert.equal((await json(admin, "/api/parties/nope/rooms")).status, 404);
    assert.equal((await json(admin, "/api/parties/main/rooms?limit=0")).status, 400);
    assert.equal((await json(admin, "/api/parties/main/rooms/%E0%A4%A")).status, 400);
  });

  test("DELETE of a live room's storage is refused, then forced on its worker", async () => {
    const room = "delete-me";
    assert.equal((await send(server.url, `/parties/main/${room}?write=1`, { method: "POST" })).status, 200);
    const socket = await openSocket(server.url, room);
    try {
      const refused = await json<{ error: string }>(admin, `/api/parties/main/rooms/${room}/storage`, "DELETE");
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
      const forced = await json<{ deleted: boolean; closedSockets: number }>(admin, `/api/parties/main/rooms/${room}/storage?force=true`, "DELETE");
      assert.equal(forced.status, 200, JSON.stringify(forced.body));
      assert.equal(forced.body.closedSockets, 1);
      const detail = await json<{ storage: { keys: unknown[] } }>(admin, `/api/parties/main/rooms/${room}`);
      assert.deepEqual(detail.body.storage.keys, []);
    } finally {
      socket.close();
    }
  });

  test("the inspector page is served", async () => {
    const page = await fetch(`${admin}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get("content-security-policy") ?? "", /default-src 'self'/);
    assert.match(await page.text(), /inspector\.js/);
    assert.equal((await fetch(`${admin}/inspector.js`)).status, 200);
  });
});

describe("a snapshot with --workers", () => {
  test("is one moment of the store across the workers' writes", async () => {
    const { server, admin } = await startWithAdmin();
    let writing = true;
    let writer: Promise<void> = Promise.resolve();
    try {
      // Two rooms on different workers, written in turn: a before b, each write acknowledged
      // before the next is sent. At any one moment a has as many writes as b, or one more.
      let a = "snap-0";
      let b = "snap-1";
      const owners = new Map<string, number>();
      for (let i = 0; new Set(owners.values()).size < 2; i++) owners.set(`snap-${i}`, await ownerPid(server.url, `snap-${i}`));
      const byPid = new Map([...owners].map(([room, pid]) => [pid, room]));
      [a, b] = [...byPid.values()] as [string, string];
      let acknowledged = 0;
      writer = (async () => {
        for (let n = 1; writing; n++) {
          for (const room of [a, b]) {
            const answer = await send(server.url, `/parties/main/${room}?write=${n}`, { method: "POST" });
            assert.equal(answer.status, 200);
          }
          acknowledged = n;
        }
      })();
      const counts: Array<{ a: number; b: number; before: number }> = [];
      for (let round = 0; round < 4; round++) {
        await sleep(150);
        const before = acknowledged;
        const response = await fetch(`${admin}/api/snapshot`);
        assert.equal(response.status, 200);
        assert.ok(response.headers.get("x-partyhouse-snapshot-at"));
        const file = join(tmpdir(), `partyhouse-workers-snapshot-${process.pid}-${round}.sqlite3`);
        writeFileSync(file, Buffer.from(await response.arrayBuffer()));
        const db = new Database(file, { readonly: true });
        const count = (room: string) =>
          db.prepare("SELECT count(*) FROM kv JOIN rooms ON rooms.id = kv.room_id WHERE rooms.party = 'main' AND rooms.room = ?").pluck().get(room) as number;
        counts.push({ a: count(a), b: count(b), before });
        db.close();
      }
      writing = false;
      await writer;
      for (const { a: inA, b: inB, before } of counts) {
        assert.ok(inA === inB || inA === inB + 1, `a ${inA}, b ${inB}: one moment of both workers' writes`);
        assert.ok(inB >= before, `every write acknowledged before the snapshot is in it (${inB} >= ${before})`);
      }
      assert.ok(counts[counts.length - 1]!.a > 0, "writes were made");
    } finally {
      writing = false;
      await writer.catch(() => {}); // a failure above stopped the test; the writer's own is moot
      await server.stop();
    }
  });
});

describe("a stuck worker and the admin listener", () => {
  test("is named in the answer instead of holding it up; its room's detail gets 503", async () => {
    const { server, admin } = await startWithAdmin(["--max-event-ms", "6000"]);
    try {
      const owners = new Map<string, number>();
      for (let i = 0; new Set(owners.values()).size < 2; i++) owners.set(`stuck-${i}`, await ownerPid(server.url, `stuck-${i}`));
      const [stuckRoom, otherRoom] = [...new Map([...owners].map(([room, pid]) => [pid, room])).values()] as [string, string];
      const stuckWorker = (await json<{ worker: number }>(admin, `/api/parties/main/rooms/${stuckRoom}`)).body.worker;
      void send(server.url, `/parties/main/${stuckRoom}?block`, { timeoutMs: 20_000 }).catch(() => {});
      await sleep(300);
      const started = Date.now();
      const parties = await json<{ unansweredWorkers: number[] }>(admin, "/api/parties");
      assert.equal(parties.status, 200);
      assert.deepEqual(parties.body.unansweredWorkers, [stuckWorker]);
      assert.ok(Date.now() - started < 5_000, "answered without waiting for the stuck worker");
      const detail = await json<{ error: string }>(admin, `/api/parties/main/rooms/${stuckRoom}`);
      assert.equal(detail.status, 503);
      assert.match(detail.body.error, new RegExp(`worker ${stuckWorker}`));
      assert.equal((await json(admin, `/api/parties/main/rooms/${otherRoom}`)).status, 200);
    } finally {
      await server.stop();
    }
  });
});
