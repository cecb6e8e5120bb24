/**
 * The crash test of issue 4, end to end: a `partyhouse start` child process takes a stream of
 * HTTP writes, each answered 200 "stored" only once it is durable — half of the writers' puts are
 * awaited by the room (`await put()` resolves when durable), the other half are not, so only the
 * output gate holds their response back — is killed with SIGKILL at a random moment, and
 * restarts on the same data folder. Every write that got its 200 must be in the database, which must open
 * cleanly, and the restarted server must take new writes. The folder is reused for every round,
 * so the database grows and every start after the first is a crash recovery.
 *
 * Also: one process per data folder — a second `start` on a folder in use exits 1 with one line,
 * and the first keeps serving.
 */
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { test, type TestContext } from "node:test";
import v8 from "node:v8";
import Database from "better-sqlite3";
import { freePort, repoRoot, runToExit, spawnPartyhouse, type SpawnedServer } from "../../src/cli/test-support.js";

const ROUNDS = 20;
const WRITERS = 8;
const ROOMS = 4;
/** The stream must have acknowledged this many writes in a round before the kill is armed... */
const MIN_ACKS_BEFORE_KILL = 40;
/** ...then the kill comes after a random delay within this window. */
const KILL_WINDOW_MS = 250;
/** Bounds: no writer sends more than this per round, no request waits longer than this. */
const MAX_WRITES_PER_WRITER = 50_000;
const REQUEST_TIMEOUT_MS = 10_000;
const READY_TIMEOUT_MS = 20_000;

const DB_FILE = "storage.sqlite3";
const PARTY = "main";
const roomName = (i: number) => `crash-${i}`;

/**
 * test/fixtures/echo's onRequest, plus writes the room does not await: for those, only the output
 * gate keeps "stored" from leaving before the put is durable. In a folder of its own, since it is
 * bundled again on every start (and test/fixtures is bundled by test files running in parallel).
 */
const SERVER_SOURCE = `
import type * as Party from "partykit/server";

export default class CrashTarget implements Party.Server {
  constructor(readonly room: Party.Room) {}
  async onRequest(req: Party.Request) {
    if (req.method === "POST") {
      const { key, value, awaited } = (await req.json()) as { key: string; value: string; awaited: boolean };
      if (awaited) await this.room.storage.put(key, value);
      else void this.room.storage.put(key, value);
      return new Response("stored");
    }
    return Response.json(Object.fromEntries(await this.room.storage.list()));
  }
}
`;

function makeProject(): { root: string; config: string; persist: string; dbDir: string } {
  const root = mkdtempSync(join(tmpdir(), "partyhouse-crash-"));
  writeFileSync(join(root, "partykit.json"), JSON.stringify({ name: "crash-target", main: "server.ts" }));
  writeFileSync(join(root, "server.ts"), SERVER_SOURCE);
  const persist = join(root, "state");
  mkdirSync(persist);
  // `--persist <dir>` keeps the database in <dir>/data (src/cli/boot.ts).
  return { root, config: join(root, "partykit.json"), persist, dbDir: join(persist, "data") };
}

function start(config: string, persist: string, port: number): Promise<SpawnedServer> {
  return spawnPartyhouse(
    ["start", "--config", config, "--host", "127.0.0.1", "--port", String(port), "--persist", persist],
    { timeoutMs: READY_TIMEOUT_MS },
  );
}

interface Reply {
  status: number;
  body: string;
}

function request(agent: http.Agent, port: number, method: "GET" | "POST", path: string, body?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: "127.0.0.1", port, method, path, agent, timeout: REQUEST_TIMEOUT_MS, headers: { "content-type": "application/json" } },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on("error", reject);
        res.on("aborted", () => reject(new Error("response aborted")));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on("error", reject);
    req.end(body);
  });
}

/** True when the server answered 200 "stored". `awaited: false` makes the room not await its put. */
async function post(agent: http.Agent, port: number, room: string, key: string, value: string, awaited = true): Promise<boolean> {
  const reply = await request(agent, port, "POST", `/parties/${PARTY}/${room}`, JSON.stringify({ key, value, awaited }));
  return reply.status === 200 && reply.body === "stored";
}

async function listRoom(port: number, room: string): Promise<Record<string, unknown>> {
  const agent = new http.Agent({ keepAlive: false });
  try {
    const reply = await request(agent, port, "GET", `/parties/${PARTY}/${room}`);
    assert.equal(reply.status, 200, `GET ${room}: ${reply.body}`);
    return JSON.parse(reply.body) as Record<string, unknown>;
  } finally {
    agent.destroy();
  }
}

interface Write {
  room: string;
  key: string;
  value: string;
  /** Whether the room awaited the put (else only the output gate held the answer back). */
  awaited: boolean;
}

interface StreamResult {
  acked: Write[];
  /** Writes sent whose answer never came: the kill caught them in flight. */
  unanswered: Write[];
  /** Writers that ended on a connection error (all of them, if the kill came mid-stream). */
  writersWithErrors: number;
  /** Requests in flight at the moment of the kill. */
  inFlightAtKill: number;
  /** Any non-200 answer, which would be a defect in itself. */
  rejected: string[];
  killDelayMs: number;
}

/**
 * Runs WRITERS keep-alive clients against the server until it dies: once MIN_ACKS_BEFORE_KILL
 * writes are acknowledged, a random delay within KILL_WINDOW_MS, then SIGKILL.
 */
async function streamUntilKilled(server: SpawnedServer, round: number): Promise<StreamResult> {
  const acked: Write[] = [];
  const unanswered: Write[] = [];
  const rejected: string[] = [];
  const inFlight = new Set<number>();
  let writersWithErrors = 0;
  let armed!: () => void;
  const enoughAcks = new Promise<void>((resolve) => (armed = resolve));

  const writer = async (w: number) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let seq = 0; seq < MAX_WRITES_PER_WRITER; seq++) {
        const write: Write = {
          room: roomName((w + seq) % ROOMS),
          key: `r${round}-w${w}-${seq}`,
          value: `v${round}.${w}.${seq}`,
          awaited: w % 2 === 0,
        };
        inFlight.add(w);
        let ok: boolean;
        try {
          ok = await post(agent, server.port, write.room, write.key, write.value, write.awaited);
        } catch {
          unanswered.push(write);
          writersWithErrors++;
          return;
        } finally {
          inFlight.delete(w);
        }
        if (!ok) {
          rejected.push(write.key);
          continue;
        }
        acked.push(write);
        if (acked.length === MIN_ACKS_BEFORE_KILL) armed();
      }
    } finally {
      agent.destroy();
    }
  };

  const writers = Array.from({ length: WRITERS }, (_, w) => writer(w));
  const stopTimer = new AbortController();
  const armTimeout = sleep(30_000, undefined, { signal: stopTimer.signal }).then(() => {
    throw new Error(`round ${round}: only ${acked.length} writes acknowledged in 30 s`);
  });
  try {
    await Promise.race([enoughAcks, armTimeout, Promise.all(writers).then(() => {
      throw new Error(`round ${round}: the writers stopped before the kill (${acked.length} acknowledged)`);
    })]);
  } finally {
    stopTimer.abort();
  }
  const killDelayMs = Math.random() * KILL_WINDOW_MS;
  await sleep(killDelayMs);
  const inFlightAtKill = inFlight.size;
  await server.stop("SIGKILL");
  assert.equal(server.child.signalCode, "SIGKILL", `round ${round}: the server died of the SIGKILL`);
  await Promise.all(writers);
  return { acked, unanswered, writersWithErrors, inFlightAtKill, rejected, killDelayMs };
}

/** Every (party "main") row of the database file, read with better-sqlite3. */
function readDatabase(file: string, readonly: boolean): { integrity: unknown; rows: Map<string, unknown> } {
  const db = new Database(file, { readonly, fileMustExist: true });
  try {
    const integrity = db.pragma("integrity_check", { simple: true });
    const rows = new Map<string, unknown>();
    const select = db
      .prepare("SELECT rooms.room AS room, kv.key AS key, kv.value AS value FROM kv JOIN rooms ON rooms.id = kv.room_id WHERE rooms.party = ?")
      .raw(true);
    for (const [room, key, value] of select.iterate(PARTY) as Iterable<[string, Buffer, Buffer]>) {
      rows.set(`${room}/${key.toString("utf8")}`, v8.deserialize(value));
    }
    return { integrity, rows };
  } finally {
    db.close();
  }
}

/** Opens a copy of the files the SIGKILL left (database + WAL), so the server's own recovery
 *  later starts from exactly those bytes: opening the original, even read-only, adds a -shm. */
function checkCrashedFiles(dbDir: string, scratch: string, acked: ReadonlyMap<string, Write>, round: number): number {
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch);
  assert.ok(!existsSync(join(dbDir, `${DB_FILE}-shm`)), "exclusive locking mode leaves no -shm file");
  for (const suffix of ["", "-wal", "-journal"]) {
    if (existsSync(join(dbDir, DB_FILE + suffix))) copyFileSync(join(dbDir, DB_FILE + suffix), join(scratch, DB_FILE + suffix));
  }
  const { integrity, rows } = readDatabase(join(scratch, DB_FILE), false);
  assert.equal(integrity, "ok", `round ${round}: integrity_check of the files left by the kill`);
  assertAllAcked(rows, acked, `round ${round}, files left by the kill`);
  return rows.size;
}

function assertAllAcked(rows: ReadonlyMap<string, unknown>, acked: ReadonlyMap<string, Write>, where: string): void {
  const lost: string[] = [];
  for (const [id, write] of acked) {
    if (rows.get(id) !== write.value) lost.push(`${id} (${write.awaited ? "awaited put" : "output gate only"}, found ${JSON.stringify(rows.get(id))})`);
  }
  assert.deepEqual(lost.slice(0, 20), [], `${where}: ${lost.length} of ${acked.size} acknowledged writes lost`);
}

const writeId = (write: Write) => `${write.room}/${write.key}`;

test(`no write acknowledged over HTTP is lost when partyhouse start is SIGKILLed (${ROUNDS} rounds)`, { timeout: 110_000 }, async (t: TestContext) => {
  const project = makeProject();
  const scratch = join(project.root, "copy");
  const port = await freePort();
  /** Every write ever acknowledged, by "room/key"; keys are never overwritten or deleted. */
  const acked = new Map<string, Write>();
  /** Writes the kill cut off: they may or may not be there. */
  const cutOff = new Map<string, Write>();
  let server: SpawnedServer | undefined;
  const began = Date.now();
  try {
    server = await start(project.config, project.persist, port);
    let unansweredFound = 0;
    let unansweredTotal = 0;
    let gateOnlyTotal = 0;
    const perRound: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const stream = await streamUntilKilled(server, round);
      server = undefined;
      assert.deepEqual(stream.rejected, [], `round ${round}: writes answered with something else than 200 "stored"`);
      for (const write of stream.acked) acked.set(writeId(write), write);
      perRound.push(stream.acked.length);
      const gateOnly = stream.acked.filter((write) => !write.awaited).length;
      gateOnlyTotal += gateOnly;

      // Not vacuous: the stream was going strong, and the kill cut it.
      assert.ok(stream.acked.length >= MIN_ACKS_BEFORE_KILL, `round ${round}: ${stream.acked.length} writes acknowledged`);
      assert.ok(gateOnly > 0 && gateOnly < stream.acked.length, `round ${round}: both kinds of writes acknowledged (${gateOnly} gate-only)`);
      assert.equal(stream.writersWithErrors, WRITERS, `round ${round}: every writer was cut off by the kill`);
      assert.ok(stream.inFlightAtKill > 0, `round ${round}: writes were in flight at the kill`);

      // The files the kill left open cleanly and hold every acknowledged write.
      const rowsAfterKill = checkCrashedFiles(project.dbDir, scratch, acked, round);
      unansweredTotal += stream.unanswered.length;
      for (const write of stream.unanswered) cutOff.set(writeId(write), write);

      // Restart on the same folder and port: the lock died with the process.
      server = await start(project.config, project.persist, port);
      const served = new Map<string, unknown>();
      for (let room = 0; room < ROOMS; room++) {
        for (const [key, value] of Object.entries(await listRoom(port, roomName(room)))) served.set(`${roomName(room)}/${key}`, value);
      }
      assertAllAcked(served, acked, `round ${round}, read back through the restarted server`);
      assert.equal(served.size, rowsAfterKill, `round ${round}: the server serves what the files held`);
      unansweredFound += stream.unanswered.filter((write) => served.get(writeId(write)) === write.value).length;

      // The restarted server takes new writes (and is the next round's target).
      const agent = new http.Agent({ keepAlive: false });
      const write: Write = { room: roomName(round % ROOMS), key: `r${round}-after-restart`, value: `after ${round}`, awaited: true };
      try {
        assert.ok(await post(agent, port, write.room, write.key, write.value, write.awaited), `round ${round}: a write after the restart`);
      } finally {
        agent.destroy();
      }
      acked.set(writeId(write), write);
      assert.equal((await listRoom(port, write.room))[write.key], write.value);
    }

    // A graceful stop, then the file itself, read-only: intact, with everything.
    assert.equal(await server.stop("SIGTERM"), 0, "graceful stop exits 0");
    server = undefined;
    const { integrity, rows } = readDatabase(join(project.dbDir, DB_FILE), true);
    assert.equal(integrity, "ok", "integrity_check of the data folder's database");
    assertAllAcked(rows, acked, "final database file");
    const unexpected = [...rows].filter(([id, value]) => (acked.get(id) ?? cutOff.get(id))?.value !== value);
    assert.deepEqual(unexpected.slice(0, 20), [], "the database holds only what was written");

    t.diagnostic(
      `${ROUNDS} rounds, ${WRITERS} writers, ${ROOMS} rooms, port ${port}: ${acked.size} acknowledged writes ` +
        `(${gateOnlyTotal} held only by the output gate), all present ` +
        `(per round ${Math.min(...perRound)}-${Math.max(...perRound)}); ${unansweredFound} of ${unansweredTotal} writes cut off ` +
        `by the kill were committed anyway; database ${rows.size} keys; ${((Date.now() - began) / 1000).toFixed(1)} s`,
    );
  } finally {
    await server?.stop("SIGKILL");
    rmSync(project.root, { recursive: true, force: true });
  }
});


test("a second partyhouse start on a data folder in use exits 1 with one line, and the first keeps serving", { timeout: 60_000 }, async () => {
  const project = makeProject();
  let first: SpawnedServer | undefined;
  try {
    first = await start(project.config, project.persist, 0);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      assert.ok(await post(agent, first.port, "r", "before", "1"));
      const second = await runToExit(["start", "--config", project.config, "--host", "127.0.0.1", "--port", "0", "--persist", project.persist]);
      assert.equal(second.code, 1, `exit code (stderr: ${second.stderr})`);
      const lines = second.stderr.trimEnd().split("\n");
      assert.equal(lines.length, 1, `one line on stderr, got:\n${second.stderr}`);
      assert.match(lines[0]!, /^partyhouse: .*data folder .*in use by another process/);
      assert.ok(lines[0]!.includes(project.dbDir), "the line names the folder");
      assert.doesNotMatch(second.stdout, /ready on/);

      assert.equal(first.child.exitCode, null, "the first process still runs");
      assert.ok(await post(agent, first.port, "r", "after", "2"), "the first still takes writes");
      assert.deepEqual(await listRoom(first.port, "r"), { after: "2", before: "1" });
    } finally {
      agent.destroy();
    }
    assert.equal(await first.stop("SIGTERM"), 0);
    first = undefined;
    const { integrity, rows } = readDatabase(join(project.dbDir, DB_FILE), true);
    assert.equal(integrity, "ok");
    assert.deepEqual([...rows].sort(), [["r/after", "2"], ["r/before", "1"]]);
  } finally {
    await first?.stop("SIGKILL");
    rmSync(project.root, { recursive: true, force: true });
  }
});
