/**
 * Every storable type comes back exactly: export → import, and SQLite → PostgreSQL → SQLite by
 * migrate, judged by what `storage.list()` and `getAlarm()` give back through the real storage
 * service and by the stored bytes.
 */
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { createTestDatabase, type TestDatabase } from "../cluster/test-support.js";
import { ExportFormatError } from "./export-format.js";
import { ExportReader } from "./export-reader.js";
import { writeExport } from "./export-writer.js";
import { importExport } from "./import.js";
import { migrateStore } from "./migrate.js";
import { PgStore } from "./pg-store.js";
import { SqliteStore } from "./sqlite-store.js";
import {
  Collect,
  everyStorableType,
  listRoom,
  postgresService,
  readRooms,
  readableOf,
  sampleRooms,
  sqliteService,
  tempDir,
  writeSampleRooms,
  type RoomContent,
} from "./test-support.js";

const rooms = sampleRooms();
const refs = rooms.map((room) => room.ref);
let dir: string;
let database: TestDatabase;
let original: Map<string, RoomContent>;
let everyType: Map<string, unknown>;

before(async () => {
  dir = tempDir();
  database = await createTestDatabase();
  const source = sqliteService(path.join(dir, "source"));
  await writeSampleRooms(source.service, rooms);
  original = await readRooms(source, refs);
  everyType = await listRoom(source, { party: "main", room: "every-type" });
  await source.close();
});

after(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await database.drop();
});

async function exportOf(folder: string): Promise<string> {
  const store = SqliteStore.openFolder(folder, { create: false });
  try {
    const out = new Collect();
    await writeExport(store.records({}), out, { source: store.description });
    return out.text;
  } finally {
    await store.close();
  }
}

describe("round trips", () => {
  test("the sample holds every type, as storage.list() gives it back", () => {
    assert.equal(everyType.size, everyStorableType().size);
    for (const [key, value] of everyStorableType()) {
      // deepStrictEqual never finds two invalid Dates equal (NaN !== NaN).
      if (key === "date:invalid") assert.ok(everyType.get(key) instanceof Date && Number.isNaN((everyType.get(key) as Date).getTime()));
      else assert.deepStrictEqual(everyType.get(key), value, key);
    }
    assert.equal(original.get("main/alarm-only")!.alarm, 1_900_000_123_456);
  });

  test("export → import into a fresh SQLite folder gives the same rooms, byte for byte", async () => {
    const text = await exportOf(path.join(dir, "source"));
    const lines = text.trimEnd().split("\n");
    assert.match(lines[0]!, /^\{"format":"partyhouse-export","version":1,/);
    assert.match(lines.at(-1)!, /^\{"end":true,"rooms":24,"keys":\d+,"alarms":6\}$/);
    const target = SqliteStore.openFolder(path.join(dir, "imported"), { create: true });
    const result = await importExport(readableOf(text), target, { operation: "restore" });
    await target.close();
    assert.equal(result.written.rooms, rooms.length);
    const imported = sqliteService(path.join(dir, "imported"));
    assert.deepStrictEqual(await readRooms(imported, refs), original);
    await imported.close();
    // And its export is the same records (only the header differs).
    assert.deepEqual((await exportOf(path.join(dir, "imported"))).split("\n").slice(1), lines.slice(1).concat(""));
  });

  test("SQLite → PostgreSQL → SQLite by migrate gives the same rooms, byte for byte", async () => {
    const source = SqliteStore.openFolder(path.join(dir, "source"), { create: false });
    const pgTarget = await PgStore.open(database.url, { write: true });
    const first = await migrateStore(source, pgTarget);
    await source.close();
    await pgTarget.close();
    assert.equal(first.verification.rooms, rooms.length);
    assert.equal(first.verification.mismatched.length, 0);

    const onPostgres = await postgresService(database.url);
    assert.deepStrictEqual(await readRooms(onPostgres, refs), original);
    await onPostgres.close();

    const pgSource = await PgStore.open(database.url, { write: false });
    const back = SqliteStore.openFolder(path.join(dir, "back"), { create: true });
    const second = await migrateStore(pgSource, back);
    await pgSource.close();
    await back.close();
    assert.equal(second.verification.checksum, first.verification.checksum);

    const returned = sqliteService(path.join(dir, "back"));
    assert.deepStrictEqual(await readRooms(returned, refs), original);
    await returned.close();
  });

  test("filters: a party, a room prefix", async () => {
    const text = await exportOf(path.join(dir, "source"));
    const target = SqliteStore.openFolder(path.join(dir, "filtered"), { create: true });
    await importExport(readableOf(text), target, { operation: "import", filter: { party: "docs", prefix: "doc:01" } });
    const records = [];
    for await (const batch of target.records({})) records.push(...batch);
    await target.close();
    const rooms = records.filter((record) => record.kind === "end").map((record) => record.room);
    assert.deepEqual(rooms, ["doc:010", "doc:011", "doc:012", "doc:013", "doc:014", "doc:015", "doc:016", "doc:017", "doc:018", "doc:019"]);
  });

  test("a damaged or cut-off export is refused, naming the line", async () => {
    const text = await exportOf(path.join(dir, "source"));
    const lines = text.trimEnd().split("\n");
    const read = async (input: string) => {
      const reader = await ExportReader.open(readableOf(input));
      for await (const _ of reader.records()) void _;
    };
    await assert.rejects(read(lines.slice(0, -1).join("\n")), /ends before its end line/);
    const changed = lines.map((line) => (line.includes('"key":"n"') && line.includes("doc:003") ? line.replace(/"value":"[^"]+"/, `"value":"/w9JAg=="`) : line));
    await assert.rejects(read(changed.join("\n")), (error: unknown) => error instanceof ExportFormatError && /does not match its summary/.test(error.message));
    const first = lines.findIndex((line) => line.includes('"room":"every-type","key"'));
    const reordered = [...lines.slice(0, first), lines[first + 1]!, lines[first]!, ...lines.slice(first + 2)];
    await assert.rejects(read(reordered.join("\n")), /out of order or repeated/);
  });

  test("hand-written lines: json values, no summaries", async () => {
    const text = [
      '{"format":"partyhouse-export","version":1}',
      '{"party":"main","room":"hand","key":"a","json":{"x":[1,2]}}',
      '{"party":"main","room":"hand","key":"b","json":"text"}',
      '{"party":"main","room":"hand","alarm":1900000000000}',
      '{"end":true}',
    ].join("\n");
    const folder = path.join(dir, "hand");
    const target = SqliteStore.openFolder(folder, { create: true });
    await importExport(readableOf(text), target, { operation: "import" });
    await target.close();
    const open = sqliteService(folder);
    const [content] = (await readRooms(open, [{ party: "main", room: "hand" }])).values();
    const listed = await listRoom(open, { party: "main", room: "hand" });
    await open.close();
    assert.deepStrictEqual(listed, new Map<string, unknown>([["a", { x: [1, 2] }], ["b", "text"]]));
    assert.equal(content!.alarm, 1_900_000_000_000);
  });
});
