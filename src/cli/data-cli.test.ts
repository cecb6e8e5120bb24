/**
 * The data commands as users run them, as real processes: a backup through the admin listener
 * while `partyhouse start` serves 32 writers; migrate SQLite → PostgreSQL and back, SIGKILLed
 * halfway (the target refuses to be served, a rerun completes and verifies it), and a cluster
 * node started on the migrated database serving the rooms with their data.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import pg from "pg";
import { createTestDatabase, type TestDatabase } from "../cluster/test-support.js";
import { tempProjects } from "../config/test-support.js";
import { PgStore } from "../data/pg-store.js";
import { SqliteStore } from "../data/sqlite-store.js";
import { compareStores } from "../data/verify.js";
import { listRoom, roomOf, sqliteService } from "../data/test-support.js";
import { ensureBuilt, freePort, repoRoot, runToExit, spawnPartyhouse } from "./test-support.js";

const bin = path.join(repoRoot, "bin/partyhouse.js");
const project = tempProjects();

/** GET lists the room's storage; POST ?n= writes a counter and its log entry in one turn; ?bulk= writes that many 1 KB keys. */
const SERVER = `
export default class Server {
  constructor(room) { this.room = room; }
  async onRequest(request) {
    const url = new URL(request.url);
    if (request.method === "POST" && url.searchParams.has("bulk")) {
      for (let i = 0; i < Number(url.searchParams.get("bulk")); i++) this.room.storage.put("bulk:" + i, "x".repeat(1000));
      return new Response("ok");
    }
    if (request.method === "POST") {
      const n = Number(url.searchParams.get("n"));
      this.room.storage.put("counter", n);
      this.room.storage.put("log:" + String(n).padStart(6, "0"), n);
      return new Response(String(n));
    }
    const entries = await this.room.storage.list();
    return Response.json({ values: Object.fromEntries(entries), alarm: await this.room.storage.getAlarm() });
  }
}
`;

let database: TestDatabase;
let dir: string;

before(async () => {
  ensureBuilt();
  database = await createTestDatabase();
  dir = (await project({ "partykit.json": `{ "main": "server.js" }`, "server.js": SERVER })).dir;
});

after(async () => {
  await database.drop();
});

/** A SQLite store of `rooms` rooms with ten 2 KB keys each (and an alarm on every 100th). */
async function fillStore(folder: string, rooms: number): Promise<void> {
  const open = sqliteService(folder);
  for (let r = 0; r < rooms; r++) {
    const storage = roomOf(open.service, { party: "main", room: `room-${String(r).padStart(5, "0")}` });
    for (let k = 0; k < 10; k++) void storage.put(`key-${k}`, { room: r, key: k, text: "y".repeat(2000) });
    if (r % 100 === 0) void storage.setAlarm(2_000_000_000_000 + r);
    await storage.sync();
    await storage.close();
  }
  await open.close();
}

/** Runs migrate and SIGKILLs it (by PID) once `progressed()` says a batch is written. */
async function migrateKilledHalfway(args: string[], progressed: () => Promise<boolean>): Promise<void> {
  const child = spawn(process.execPath, [bin, "migrate", ...args], { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  let killed = false;
  const deadline = Date.now() + 60_000;
  while (child.exitCode === null && Date.now() < deadline) {
    if (await progressed().catch(() => false)) {
      process.kill(child.pid!, "SIGKILL");
      killed = true;
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const code = await exited;
  assert.ok(killed && code === null, `migrate should have been killed halfway (exit ${code}):\n${output}`);
}

async function pgMark(url: string): Promise<{ position?: unknown } | undefined> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ value: string }>("SELECT value FROM ph_meta WHERE key = 'incomplete'").catch(() => ({ rows: [] as Array<{ value: string }> }));
    return result.rows[0] === undefined ? undefined : (JSON.parse(result.rows[0].value) as { position?: unknown });
  } finally {
    await client.end();
  }
}

function folderBytes(folder: string): number {
  let total = 0;
  for (const name of fs.existsSync(folder) ? fs.readdirSync(folder) : []) total += fs.statSync(path.join(folder, name)).size;
  return total;
}

describe("data commands", () => {
  test("migrate SQLite → PostgreSQL, SIGKILLed halfway: the cluster refuses the database; a rerun completes and verifies it; a cluster node serves the rooms", async () => {
    const source = path.join(dir, "single");
    await fillStore(path.join(source, "data"), 2000);
    await migrateKilledHalfway(["--from", source, "--to", database.url], async () => (await pgMark(database.url))?.position !== undefined);

    const refused = await runToExit(["start", "--cluster", database.url, "--port", String(await freePort()), "--host", "127.0.0.1"], { cwd: dir });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /The cluster database holds an unfinished migrate from sqlite:.*storage\.sqlite3/);

    const rerun = await runToExit(["migrate", "--from", source, "--to", database.url], { cwd: dir, timeoutMs: 120_000 });
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(rerun.stderr, /copying \(resuming after main\/room-\d+\)/);
    assert.match(rerun.stderr, /verified 2000 rooms, 20000 keys/);
    assert.equal(await pgMark(database.url), undefined);

    // Checked independently of the command: every room's count and checksum on both sides.
    const from = SqliteStore.openFolder(path.join(source, "data"), { create: false });
    const to = await PgStore.open(database.url, { write: false });
    const check = await compareStores(from, to);
    await from.close();
    await to.close();
    assert.equal(check.rooms, 2000);
    assert.deepEqual(check.mismatched, []);

    const port = await freePort();
    const node = await spawnPartyhouse(["start", "--cluster", database.url, "--port", String(port), "--host", "127.0.0.1"], { cwd: dir });
    try {
      for (const r of [0, 777, 1999]) {
        const room = `room-${String(r).padStart(5, "0")}`;
        const body = (await (await fetch(`${node.url}/parties/main/${room}`)).json()) as { values: Record<string, { room: number }>; alarm: number | null };
        assert.equal(Object.keys(body.values).length, 10);
        assert.equal(body.values["key-3"]!.room, r);
        assert.equal(body.alarm, r % 100 === 0 ? 2_000_000_000_000 + r : null);
      }
    } finally {
      await node.stop();
    }
  });

  test("migrate PostgreSQL → SQLite, SIGKILLed halfway: start refuses the folder; a rerun completes it; start serves it", async () => {
    const target = path.join(dir, "back");
    const data = path.join(target, "data");
    await migrateKilledHalfway(["--from", database.url, "--to", target], async () => folderBytes(data) > 12 * 1024 * 1024);

    const refused = await runToExit(["start", "--persist", target, "--port", "0", "--host", "127.0.0.1"], { cwd: dir });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /The data folder .* holds an unfinished migrate from postgres:\/\//);

    const rerun = await runToExit(["migrate", "--from", database.url, "--to", target], { cwd: dir, timeoutMs: 120_000 });
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.match(rerun.stderr, /verified 2000 rooms, 20000 keys/);

    const server = await spawnPartyhouse(["start", "--persist", target, "--port", "0", "--host", "127.0.0.1"], { cwd: dir });
    try {
      const body = (await (await fetch(`${server.url}/parties/main/room-01234`)).json()) as { values: Record<string, { key: number }> };
      assert.equal(body.values["key-9"]!.key, 9);
    } finally {
      await server.stop();
    }
  });

  test("backup through the admin listener while start serves 32 writers: the restore holds every acknowledged write, no torn one", async () => {
    const adminPort = await freePort();
    const persist = path.join(dir, "served");
    const server = await spawnPartyhouse(["start", "--persist", persist, "--port", "0", "--host", "127.0.0.1", "--admin-port", String(adminPort)], { cwd: dir });
    const acknowledged = new Array<number>(32).fill(-1);
    let running = true;
    let writers: Array<Promise<void>> = [];
    try {
      // Some bulk first, so the snapshot takes many slices while the writers write.
      for (let r = 0; r < 40; r++) assert.equal((await fetch(`${server.url}/parties/main/bulk-${r}?bulk=200`, { method: "POST" })).status, 200);
      writers = acknowledged.map(async (_, w) => {
        for (let n = 0; running; n++) {
          const response = await fetch(`${server.url}/parties/main/writer-${w}?n=${n}`, { method: "POST" });
          // The reply leaves only once the write is durable (output gate): acknowledged.
          if ((await response.text()) === String(n)) acknowledged[w] = n;
        }
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const before = [...acknowledged];
      const backup = await runToExit(["backup", path.join(dir, "served.jsonl"), "--admin", `http://127.0.0.1:${adminPort}`], { cwd: dir, timeoutMs: 60_000 });
      assert.equal(backup.code, 0, backup.stderr);
      assert.match(backup.stderr, /snapshot at /);
      const during = [...acknowledged];
      running = false;
      await Promise.all(writers);
      assert.ok(during.some((n, w) => n > before[w]!), "the writers kept writing while the backup ran");

      const restored = path.join(dir, "restored");
      const restore = await runToExit(["restore", path.join(dir, "served.jsonl"), "--to", restored], { cwd: dir });
      assert.equal(restore.code, 0, restore.stderr);
      const open = sqliteService(path.join(restored, "data"));
      try {
        assert.equal((await listRoom(open, { party: "main", room: "bulk-39" })).size, 200);
        for (let w = 0; w < 32; w++) {
          const room = await listRoom(open, { party: "main", room: `writer-${w}` });
          const counter = (room.get("counter") as number | undefined) ?? -1;
          assert.ok(counter >= before[w]!, `writer ${w}: ${before[w]} acknowledged before the backup, ${counter} restored`);
          assert.equal(room.size - (counter >= 0 ? 1 : 0), counter + 1, `writer ${w}: every log entry up to the counter`);
        }
      } finally {
        await open.close();
      }
    } finally {
      running = false;
      await Promise.allSettled(writers);
      await server.stop();
    }
  });
});
