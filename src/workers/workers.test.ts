/**
 * `partyhouse start --workers N` with real processes: the supervisor, its workers, sockets on
 * 127.0.0.1 and the shared SQLite file. Worker processes are found by the pid their rooms
 * report, and killed by that pid.
 */
import { strict as assert } from "node:assert";
import { Agent } from "node:http";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import PartySocket from "partysocket";
import WebSocket from "ws";
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { ensureBuilt, runToExit, spawnPartyhouse, type SpawnedServer } from "../cli/test-support.js";
import { fixtureProject, ledger, ownerOnKeptConnection, ownerPid, send, sleep } from "./test-support.js";

before(() => ensureBuilt());

function start(dir: string, workers: number | undefined, extra: string[] = []): Promise<SpawnedServer> {
  const args = ["start", "--port", "0", "--host", "127.0.0.1", ...(workers === undefined ? [] : ["--workers", String(workers)]), ...extra];
  return spawnPartyhouse(args, { cwd: dir, timeoutMs: 60_000 });
}

describe("rooms spread over workers, one instance each", () => {
  let server: SpawnedServer;
  const agent = new Agent({ keepAlive: true, maxSockets: 2 });
  before(async () => {
    server = await start(fixtureProject(), 2);
  });
  after(async () => {
    agent.destroy();
    await server.stop();
  });

  test("each room is served by one worker, whichever connection asks", async () => {
    const rooms = Array.from({ length: 12 }, (_, i) => `spread-${i}`);
    const owners = new Map<string, number>();
    for (const room of rooms) owners.set(room, await ownerPid(server.url, room));
    assert.equal(new Set(owners.values()).size, 2, "both workers own rooms");
    // Again on fresh connections, and on two kept-alive ones that serve every room (forwarded
    // between workers where the connection's worker is not the owner).
    for (let round = 0; round < 3; round++) {
      for (const room of rooms) {
        assert.equal(await ownerPid(server.url, room), owners.get(room), `${room} on a fresh connection`);
        assert.equal(await ownerPid(server.url, room, agent), owners.get(room), `${room} on a kept-alive connection`);
      }
    }
  });

  test("concurrent first requests to a new room on many connections reach one instance", async () => {
    const writes = Array.from({ length: 40 }, (_, i) => i + 1);
    const answers = await Promise.all(writes.map((i) => send(server.url, `/parties/main/burst?write=${i}`, { method: "POST", agent: i % 2 === 0 ? agent : false })));
    const pids = new Set(answers.map((answer) => (JSON.parse(answer.body) as { pid: number }).pid));
    assert.equal(pids.size, 1, `one process served the room, got ${[...pids].join(", ")}`);
    assert.deepEqual(await ledger(server.url, "burst"), writes);
  });

  test("a WebSocket is served by the room's owner", async () => {
    for (const room of ["spread-0", "spread-1", "spread-2"]) {
      const owner = await ownerPid(server.url, room);
      const ws = new WebSocket(`${server.url.replace("http", "ws")}/parties/main/${room}`);
      const reply = await new Promise<string>((resolve, reject) => {
        ws.once("open", () => ws.send("hello"));
        ws.once("message", (data) => resolve(String(data)));
        ws.once("error", reject);
      });
      ws.close();
      assert.deepEqual(JSON.parse(reply), { pid: owner, echo: "hello" });
    }
  });
});

describe("a worker SIGKILLed under writers", () => {
  test("loses no acknowledged write, and its rooms answer again", async () => {
    const dir = fixtureProject();
    const server = await start(dir, 2);
    let stopWriters = async () => {};
    try {
      const rooms = Array.from({ length: 8 }, (_, i) => `ledger-${i}`);
      const owners = new Map<string, number>();
      for (const room of rooms) owners.set(room, await ownerPid(server.url, room));
      const victim = owners.get(rooms[0]!)!;
      const victimRooms = rooms.filter((room) => owners.get(room) === victim);
      const acknowledged = new Map<string, number[]>(rooms.map((room) => [room, []]));
      let seq = 0;
      let writing = true;
      const agent = new Agent({ keepAlive: true, maxSockets: 4 });
      const writer = async (room: string) => {
        while (writing) {
          const n = ++seq;
          try {
            const answer = await send(server.url, `/parties/main/${room}?write=${n}`, { method: "POST", agent: n % 3 === 0 ? false : agent, timeoutMs: 5_000 });
            if (answer.status === 200) acknowledged.get(room)!.push(n);
          } catch {
            // The connection died with the worker: not acknowledged, may or may not be stored.
          }
        }
      };
      const writers = rooms.map((room) => writer(room));
      stopWriters = async () => {
        writing = false;
        await Promise.all(writers);
        agent.destroy();
      };
      await sleep(800);
      process.kill(victim, "SIGKILL");
      const killedAt = Date.now();
      // The victim's rooms answer again at once, from a worker that was already running (no
      // lease to wait for, no waiting for the victim's restart), while the writers go on.
      const survivors = new Set([...owners.values()].filter((pid) => pid !== victim));
      for (const room of victimRooms) {
        for (;;) {
          try {
            const pid = await ownerPid(server.url, room);
            assert.ok(survivors.has(pid), `${room} answered by ${pid}, not by a surviving worker`);
            break;
          } catch (error) {
            assert.ok(Date.now() - killedAt < 5_000, `${room} did not answer again within 5 s: ${String(error)}`);
            await sleep(50);
          }
        }
      }
      const backAfterMs = Date.now() - killedAt;
      await sleep(500);
      await stopWriters();
      let total = 0;
      for (const room of rooms) {
        const stored = new Set(await ledger(server.url, room));
        for (const n of acknowledged.get(room)!) assert.ok(stored.has(n), `acknowledged write ${n} of ${room} is stored`);
        total += acknowledged.get(room)!.length;
      }
      assert.ok(total > 50, `enough writes were acknowledged (${total})`);
      assert.ok(backAfterMs < 3_000, `the killed worker's rooms answered again after ${backAfterMs} ms`);
      assert.match(server.output(), /worker exited; starting it again/);
    } finally {
      await stopWriters();
      await server.stop();
    }
  });
});

describe("connections handed to workers", () => {
  test("the supervisor's copies close with their connections: no descriptors pile up, and an idle one ends at the keep-alive timeout", async () => {
    const server = await start(fixtureProject(), 2);
    try {
      const supervisor = server.child.pid!;
      // Built once: the supervisor's children are its two workers, and theirs none (esbuild's
      // service process, ~38 MB, is let go once the builds are done).
      const children = (pid: number) => readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(" ").filter(Boolean).map(Number);
      assert.equal(children(supervisor).length, 2, `the supervisor's children: ${children(supervisor).join(", ")}`);
      for (const worker of children(supervisor)) assert.deepEqual(children(worker), [], `worker ${worker}'s children`);
      const descriptors = () => readdirSync(`/proc/${supervisor}/fd`).length;
      await ownerPid(server.url, "copies-0");
      await sleep(200);
      const before = descriptors();
      for (let i = 0; i < 150; i++) await ownerPid(server.url, `copies-${i % 10}`);
      await sleep(300);
      const after = descriptors();
      assert.ok(after - before < 20, `the supervisor holds ${after - before} more descriptors after 150 connections came and went`);
      // A kept-alive connection left idle goes back to the supervisor, which ends it at the
      // keep-alive timeout the worker announced (5 s); the client must see that.
      const socket = connect(server.port, "127.0.0.1");
      socket.write("GET /parties/main/copies-0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
      const closed = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 12_000);
        socket.once("close", () => {
          clearTimeout(timer);
          resolve(true);
        });
        socket.on("data", () => {});
        socket.on("error", () => {});
      });
      socket.destroy();
      assert.ok(closed, "the idle kept-alive connection was closed within 12 s");
    } finally {
      await server.stop();
    }
  });
});

describe("alarms with --workers", () => {
  test("fire on each room's owner, and a killed worker's alarms fire on a surviving one", async () => {
    const server = await start(fixtureProject(), 2);
    try {
      const owners = new Map<string, number>();
      for (let i = 0; new Set(owners.values()).size < 2; i++) owners.set(`alarm-${i}`, await ownerPid(server.url, `alarm-${i}`));
      const [kept, orphaned] = [...new Map([...owners].map(([room, pid]) => [pid, room])).values()] as [string, string];
      const victim = owners.get(orphaned)!;
      for (const room of [kept, orphaned]) assert.equal((await send(server.url, `/parties/main/${room}?alarm=1500`, { method: "POST" })).status, 200);
      // The owner of one room dies before its alarm is due: nothing in memory holds that alarm
      // any more; the supervisor finds it in the store and sends it to the room's new owner.
      process.kill(victim, "SIGKILL");
      const fired = async (room: string): Promise<{ pid: number; fired: number | null }> =>
        JSON.parse((await send(server.url, `/parties/main/${room}?fired`)).body) as { pid: number; fired: number | null };
      const deadline = Date.now() + 15_000;
      let results: Array<{ pid: number; fired: number | null }> = [];
      while (Date.now() < deadline) {
        await sleep(250);
        results = await Promise.all([kept, orphaned].map((room) => fired(room).catch(() => ({ pid: 0, fired: null }))));
        if (results.every((result) => result.fired !== null)) break;
      }
      assert.equal(results[0]!.fired, owners.get(kept), `${kept}'s alarm fired on its owner`);
      assert.ok(results[1]!.fired !== null && results[1]!.fired !== victim, `${orphaned}'s alarm fired on a live worker (${results[1]!.fired})`);
      assert.equal(results[1]!.fired, results[1]!.pid, "on the worker that owns the room now");
    } finally {
      await server.stop();
    }
  });
});

describe("a stuck handler", () => {
  test("stalls only its own worker's rooms, which come back once the watchdog ends it", async () => {
    const server = await start(fixtureProject(), 2, ["--max-event-ms", "2000"]);
    try {
      const rooms = Array.from({ length: 8 }, (_, i) => `stall-${i}`);
      const owners = new Map<string, number>();
      for (const room of rooms) owners.set(room, await ownerPid(server.url, room));
      const stuckPid = owners.get(rooms[0]!)!;
      const healthy = rooms.filter((room) => owners.get(room) !== stuckPid);
      assert.ok(healthy.length > 0);
      // Blocks its worker; the answer never comes (the worker is ended).
      const blocked = send(server.url, `/parties/main/${rooms[0]}?block`, { timeoutMs: 10_000 }).catch((error: Error) => error);
      await sleep(200);
      const agent = new Agent({ keepAlive: true, maxSockets: 2 });
      const latencies: number[] = [];
      const stallEnds = Date.now() + 1_500;
      while (Date.now() < stallEnds) {
        for (const room of healthy) {
          const began = performance.now();
          const answer = await send(server.url, `/parties/main/${room}`, { agent: latencies.length % 2 === 0 ? false : agent, timeoutMs: 5_000 });
          latencies.push(performance.now() - began);
          assert.equal(answer.status, 200);
          assert.notEqual((JSON.parse(answer.body) as { pid: number }).pid, stuckPid);
        }
      }
      agent.destroy();
      latencies.sort((a, b) => a - b);
      assert.ok(latencies.at(-1)! < 1_000, `slowest request to a healthy worker's room took ${latencies.at(-1)} ms`);
      assert.ok(await blocked instanceof Error, "the blocked request got no answer");
      // Ended by the watchdog about 2 s after it blocked; its room answers again soon after.
      const waitFrom = Date.now();
      for (;;) {
        try {
          const pid = await ownerPid(server.url, rooms[0]!);
          assert.notEqual(pid, stuckPid);
          break;
        } catch {
          assert.ok(Date.now() - waitFrom < 6_000, "the stuck worker's room did not come back");
          await sleep(50);
        }
      }
      assert.match(server.output(), /worker exited; starting it again/);
    } finally {
      await server.stop();
    }
  });
});

describe("kept-alive connections left idle on a worker", () => {
  test("one idle on a worker that then blocks carries a request for another worker's room at once", async () => {
    const server = await start(fixtureProject(), 2);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const owners = new Map<string, number>();
      for (let i = 0; new Set(owners.values()).size < 2; i++) owners.set(`idle-${i}`, await ownerPid(server.url, `idle-${i}`));
      const [busyRoom, otherRoom] = [...new Map([...owners].map(([room, pid]) => [pid, room])).values()] as [string, string];
      // The agent's one connection is routed to the busy room's worker, and left idle there.
      assert.equal(await ownerPid(server.url, busyRoom, agent), owners.get(busyRoom));
      await sleep(300);
      const burning = send(server.url, `/parties/main/${busyRoom}?burn=2500`, { timeoutMs: 10_000 });
      await sleep(300);
      const began = performance.now();
      const answer = await ownerOnKeptConnection(server.url, otherRoom, agent);
      const waited = performance.now() - began;
      assert.ok(answer.reused, "the request went on the kept-alive connection");
      assert.equal(answer.pid, owners.get(otherRoom));
      assert.ok(waited < 1_000, `the request for the other worker's room waited ${Math.round(waited)} ms behind the busy worker`);
      assert.equal((await burning).status, 200);
    } finally {
      agent.destroy();
      await server.stop();
    }
  });

  test("a parked connection outlives its worker's death: its next request is answered by a live worker", async () => {
    const server = await start(fixtureProject(), 2);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const victim = await ownerPid(server.url, "outlive-0", agent);
      await sleep(300); // parked
      process.kill(victim, "SIGKILL");
      await sleep(300);
      const answer = await ownerOnKeptConnection(server.url, "outlive-0", agent);
      assert.ok(answer.reused, "the request went on the kept-alive connection");
      assert.notEqual(answer.pid, victim);
    } finally {
      agent.destroy();
      await server.stop();
    }
  });

  test("a parked connection loses no byte: a body sent after a pause, then the next request, on the same socket", async () => {
    const server = await start(fixtureProject(), 2);
    try {
      const socket = connect(server.port, "127.0.0.1");
      let received = "";
      socket.setEncoding("latin1");
      socket.on("data", (chunk: string) => (received += chunk));
      const answers = async (count: number) => {
        const deadline = Date.now() + 10_000;
        while (received.split("HTTP/1.1 200 OK").length - 1 < count) {
          assert.ok(Date.now() < deadline, `${count} answers, got: ${received}`);
          await sleep(10);
        }
      };
      socket.write("GET /parties/main/parked-0 HTTP/1.1\r\nhost: x\r\n\r\n");
      await answers(1);
      await sleep(300); // parked: the supervisor reads the next request line
      socket.write("POST /parties/main/parked-0?write=7 HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\n01234");
      await sleep(200);
      socket.write("56789");
      await answers(2);
      await sleep(300);
      socket.write("GET /parties/main/parked-0?ledger HTTP/1.1\r\nhost: x\r\n\r\n");
      await answers(3);
      assert.match(received, /"wrote":7/);
      assert.match(received, /"writes":\[7\]/);
      assert.doesNotMatch(received, /HTTP\/1.1 (4|5)\d\d/);
      socket.destroy();
    } finally {
      await server.stop();
    }
  });
});

describe("kept-alive connections under random use (property test against a ledger)", () => {
  // What a client does on one connection, in order: GETs and POSTs with a body (written to the
  // room's ledger), to rooms spread over both workers, with pauses under and over the time after
  // which a worker parks an idle connection, heads or bodies sent in two parts with a pause
  // between, and pipelined bursts (the next request sent before this one's answer).
  const step = fc.record({
    post: fc.boolean(),
    room: fc.integer({ min: 0, max: 5 }),
    pauseMs: fc.constantFrom(0, 10, 90),
    splitBody: fc.boolean(),
    splitHead: fc.boolean(),
    pipelined: fc.boolean(),
  });
  let server: SpawnedServer;
  before(async () => {
    server = await start(fixtureProject(), 2);
  });
  after(() => server.stop());

  test("every request is answered once, in order, by its room; every acknowledged write is in its ledger", async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 2, maxLength: 8 }), async (steps) => {
        const socket = connect(server.port, "127.0.0.1");
        const responses = new ResponseReader();
        socket.on("data", (chunk: Buffer) => responses.push(chunk));
        socket.on("error", () => {});
        const expected: Array<{ room: string; wrote?: number }> = [];
        try {
          for (const [i, s] of steps.entries()) {
            const room = `fuzz-${s.room}`;
            if (s.pauseMs > 0) await sleep(s.pauseMs);
            const wrote = s.post ? ++n : undefined;
            const body = s.post ? JSON.stringify({ wrote }).padEnd(24, " ") : "";
            const head = s.post
              ? `POST /parties/main/${room}?write=${wrote} HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\n\r\n`
              : `GET /parties/main/${room} HTTP/1.1\r\nhost: x\r\n\r\n`;
            const text = head + body;
            // Cut inside the head, or inside the body, with a pause longer than the park time.
            const cut = s.splitHead ? 9 : s.splitBody && s.post ? head.length + 7 : text.length;
            socket.write(text.slice(0, cut));
            if (cut < text.length) {
              await sleep(70);
              socket.write(text.slice(cut));
            }
            expected.push(wrote === undefined ? { room } : { room, wrote });
            // Unless this one is pipelined with the next, wait for its answer before going on.
            if (!s.pipelined || i === steps.length - 1) await responses.until(expected.length, 10_000);
          }
          const answers = await responses.until(expected.length, 10_000);
          assert.equal(answers.length, expected.length);
          for (const [i, answer] of answers.entries()) {
            assert.equal(answer.status, 200, answer.body);
            const json = JSON.parse(answer.body) as { room: string; wrote?: number };
            assert.equal(json.room, expected[i]!.room, `answer ${i} is for its request's room`);
            assert.equal(json.wrote, expected[i]!.wrote);
          }
        } finally {
          socket.destroy();
        }
      }),
      { numRuns: 12 },
    );
    // Every acknowledged write is in its room's ledger, once.
    const written = new Set<number>();
    for (let room = 0; room <= 5; room++) for (const value of await ledger(server.url, `fuzz-${room}`)) written.add(value);
    for (let value = 1; value <= n; value++) assert.ok(written.has(value), `write ${value} was acknowledged and is in a ledger`);
  });
});

/** HTTP/1.1 responses read off a raw socket in order (Content-Length framed, as the fixture's are). */
class ResponseReader {
  private buffer = Buffer.alloc(0);
  private readonly parsed: Array<{ status: number; body: string }> = [];

  push(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const end = this.buffer.indexOf("\r\n\r\n");
      if (end === -1) return;
      const head = this.buffer.toString("latin1", 0, end);
      const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (this.buffer.length < end + 4 + length) return;
      this.parsed.push({ status: Number(head.split(" ")[1]), body: this.buffer.toString("utf8", end + 4, end + 4 + length) });
      this.buffer = this.buffer.subarray(end + 4 + length);
    }
  }

  async until(count: number, withinMs: number): Promise<Array<{ status: number; body: string }>> {
    const deadline = Date.now() + withinMs;
    while (this.parsed.length < count) {
      assert.ok(Date.now() < deadline, `${count} answers expected, ${this.parsed.length} came`);
      await sleep(5);
    }
    return this.parsed;
  }
}

describe("--persist false with --workers", () => {
  test("the workers share a temporary store, removed at exit; nothing is written to the project", async () => {
    const dir = fixtureProject();
    const server = await start(dir, 2, ["--persist", "false"]);
    let folder: string | undefined;
    try {
      const owners = new Map<string, number>();
      for (let i = 0; new Set(owners.values()).size < 2; i++) {
        const room = `unpersisted-${i}`;
        const wrote = await send(server.url, `/parties/main/${room}?write=${i}`);
        assert.equal(wrote.status, 200);
        owners.set(room, (JSON.parse(wrote.body) as { pid: number }).pid);
      }
      // Each room's write is there, read back on fresh connections, whichever worker holds it.
      for (const [room] of owners) assert.deepEqual(await ledger(server.url, room), [Number(room.split("-")[1])]);
      const open = readdirSync(`/proc/${server.child.pid}/fd`).flatMap((fd) => {
        try {
          return [readlinkSync(`/proc/${server.child.pid}/fd/${fd}`)];
        } catch {
          return [];
        }
      });
      folder = open.find((path) => path.includes("partyhouse-unpersisted-"))?.replace(/\/[^/]*$/, "");
      assert.ok(folder !== undefined && existsSync(folder), `the supervisor holds a temporary store open (${open.join(", ")})`);
    } finally {
      await server.stop();
    }
    assert.ok(!existsSync(folder!), `${folder} is removed at exit`);
    assert.ok(!existsSync(join(dir, ".partyhouse", "data")), "no data folder in the project (its build folder is all)");
  });
});

describe("the worker count changes between runs", () => {
  test("every room's data is there with 3 workers, then 1 process, then 2 workers", async () => {
    const dir = fixtureProject();
    const rooms = Array.from({ length: 10 }, (_, i) => `keep-${i}`);
    const expected = new Map<string, number[]>();
    let server = await start(dir, 3);
    try {
      for (const [i, room] of rooms.entries()) {
        const writes = [i + 1, i + 100];
        for (const n of writes) assert.equal((await send(server.url, `/parties/main/${room}?write=${n}`, { method: "POST" })).status, 200);
        expected.set(room, writes);
      }
    } finally {
      assert.equal(await server.stop(), 0);
    }
    for (const workers of [undefined, 2]) {
      server = await start(dir, workers);
      try {
        for (const room of rooms) assert.deepEqual(await ledger(server.url, room), expected.get(room), `${room} with ${workers ?? 1} worker(s)`);
        const room = rooms[0]!;
        const n = 1_000 + (workers ?? 1);
        await send(server.url, `/parties/main/${room}?write=${n}`, { method: "POST" });
        expected.get(room)!.push(n);
      } finally {
        assert.equal(await server.stop(), 0);
      }
    }
  });
});

describe("kill -HUP <supervisor>", () => {
  test("replaces every worker under partysocket and HTTP writers: no request refused, no acknowledged write lost, each socket closed at most once (1012)", async () => {
    const server = await start(fixtureProject(), 2);
    const sockets: PartySocket[] = [];
    let writing = true;
    try {
      const rooms = Array.from({ length: 6 }, (_, i) => `reload-${i}`);
      const before = new Set<number>();
      for (const room of rooms) before.add(await ownerPid(server.url, room));
      const acknowledged = new Map<string, number[]>(rooms.map((room) => [room, []]));
      const closes: number[][] = rooms.map(() => []);
      const refused: string[] = [];
      let seq = 0;
      // partysocket clients: one per room, sending a write every 20 ms while open.
      for (const [i, room] of rooms.entries()) {
        const socket = new PartySocket({ host: `127.0.0.1:${server.port}`, room, WebSocket, minReconnectionDelay: 50, maxReconnectionDelay: 200 });
        socket.addEventListener("close", (event) => closes[i]!.push(event.code));
        socket.addEventListener("message", (event) => {
          const text = String(event.data);
          if (text.startsWith("ack:")) acknowledged.get(room)!.push(Number(text.slice(4)));
        });
        sockets.push(socket);
      }
      const socketWriter = (async () => {
        while (writing) {
          for (const socket of sockets) if (socket.readyState === WebSocket.OPEN) socket.send(`write:${++seq}`);
          await sleep(20);
        }
      })();
      // HTTP writers, on fresh and kept-alive connections.
      const agent = new Agent({ keepAlive: true, maxSockets: 2 });
      const httpWriter = async (room: string, useAgent: boolean) => {
        while (writing) {
          const n = ++seq;
          try {
            const answer = await send(server.url, `/parties/main/${room}?write=${n}`, { method: "POST", agent: useAgent ? agent : false, timeoutMs: 15_000 });
            if (answer.status === 200) acknowledged.get(room)!.push(n);
            else refused.push(`${room} ${answer.status} ${answer.body}`);
          } catch (error) {
            refused.push(`${room} ${String(error)}`);
          }
        }
      };
      const httpWriters = rooms.map((room, i) => httpWriter(room, i % 2 === 0));
      await sleep(700);
      process.kill(server.child.pid!, "SIGHUP");
      const reloadFrom = Date.now();
      while (!/"reload done"/.test(server.output())) {
        assert.ok(Date.now() - reloadFrom < 40_000, `the reload did not finish:\n${server.output()}`);
        await sleep(100);
      }
      await sleep(700);
      writing = false;
      await Promise.all([socketWriter, ...httpWriters]);
      agent.destroy();
      for (const socket of sockets) socket.close();
      assert.deepEqual(refused, [], "no HTTP request was refused");
      for (const [i, room] of rooms.entries()) {
        const stored = new Set(await ledger(server.url, room));
        for (const n of acknowledged.get(room)!) assert.ok(stored.has(n), `acknowledged write ${n} of ${room} is stored`);
        const serverCloses = closes[i]!.filter((code) => code !== 1000);
        assert.ok(serverCloses.length <= 1, `${room}'s socket was closed ${serverCloses.length} times: ${closes[i]!.join(", ")}`);
        for (const code of serverCloses) assert.equal(code, 1012);
        // Served by a new worker now.
        assert.ok(!before.has(await ownerPid(server.url, room)), `${room} is served by a new worker`);
      }
      const total = [...acknowledged.values()].reduce((sum, list) => sum + list.length, 0);
      assert.ok(total > 100, `enough writes were acknowledged (${total})`);
    } finally {
      writing = false;
      for (const socket of sockets) socket.close();
      await server.stop();
    }
  });
});

describe("a worker that cannot start", () => {
  test("fails the start with one line instead of restarting forever", async () => {
    const dir = fixtureProject();
    writeFileSync(join(dir, "server.ts"), 'throw new Error("this party does not load");\nexport default class Room {}\n');
    const finished = await runToExit(["start", "--port", "0", "--host", "127.0.0.1", "--workers", "2"], { cwd: dir, timeoutMs: 30_000 });
    assert.notEqual(finished.code, 0);
    assert.match(finished.stderr, /partyhouse: worker \d exited before it was ready \(exit code 1\)/);
    assert.match(finished.stderr, /this party does not load/);
  });
});
