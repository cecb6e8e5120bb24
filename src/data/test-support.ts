/**
 * Helpers for the data tests (not a test file itself): rooms holding every type storage takes,
 * written and read through the real storage service on SQLite and PostgreSQL, so that a round
 * trip is judged by what `storage.list()` gives back and by the stored bytes.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable, Writable } from "node:stream";
import v8 from "node:v8";
import type { RoomStorage, StorageService } from "../storage/contract.js";
import type { RoomRef, StorageEngine } from "../storage/engine.js";
import { GroupCommitStorageService } from "../storage/service.js";
import { SqliteEngine } from "../storage/sqlite-engine.js";
import { openPostgresEngine } from "../cluster/engine-test-support.js";
import { RecordingHooks } from "../storage/test-support.js";

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "partyhouse-data-"));
}

/** Every kind of value storage accepts (structured clone), with keys of every shape. */
export function everyStorableType(): Map<string, unknown> {
  const cyclic: Record<string, unknown> = { name: "cycle" };
  cyclic.self = cyclic;
  const shared = { shared: true };
  const sparse: unknown[] = [1];
  sparse[5] = 6;
  const bytes = new Uint8Array([0, 1, 2, 254, 255]);
  const nestedMap = new Map<unknown, unknown>([
    ["a", new Set([1, "two", 3n])],
    [{ objectKey: 1 }, [new Date(0), null]],
  ]);
  const values: Array<[string, unknown]> = [
    ["string", "hello"],
    ["string:two-byte", "héllo wörld ✓ 日本"],
    ["string:astral", "🎉 party 🏠"],
    ["string:empty", ""],
    ["number", 42],
    ["number:float", Math.PI],
    ["number:-0", -0],
    ["number:NaN", Number.NaN],
    ["number:Infinity", Number.POSITIVE_INFINITY],
    ["number:-Infinity", Number.NEGATIVE_INFINITY],
    ["bigint", 12345678901234567890123456789n],
    ["bigint:negative", -42n],
    ["boolean:true", true],
    ["boolean:false", false],
    ["null", null],
    ["date", new Date("2026-11-27T14:00:00.123Z")],
    ["date:invalid", new Date(Number.NaN)],
    ["regexp", /part(y|ies)/giu],
    ["error", new RangeError("out of range")],
    ["boxed:string", Object("boxed")],
    ["boxed:number", Object(7)],
    ["boxed:boolean", Object(false)],
    ["map", new Map<unknown, unknown>([["k", 1], [2, "two"]])],
    ["map:nested", nestedMap],
    ["set", new Set(["x", 1, null])],
    ["array", [1, "two", { three: 3 }, [4]]],
    ["array:sparse", sparse],
    ["object", { a: 1, b: { c: [true, null, "d"] }, "key with spaces": "ok" }],
    ["cyclic", cyclic],
    ["shared-references", { first: shared, second: shared }],
    ["arraybuffer", bytes.buffer.slice(0)],
    ["uint8array", new Uint8Array([1, 2, 3])],
    ["uint8array:subarray", new Uint8Array([9, 8, 7, 6, 5]).subarray(1, 4)],
    ["uint8clampedarray", new Uint8ClampedArray([0, 128, 255])],
    ["int8array", new Int8Array([-128, 0, 127])],
    ["uint16array", new Uint16Array([0, 65535])],
    ["int16array", new Int16Array([-32768, 32767])],
    ["uint32array", new Uint32Array([0, 4294967295])],
    ["int32array", new Int32Array([-2147483648, 2147483647])],
    ["float32array", new Float32Array([1.5, -0, Number.NaN])],
    ["float64array", new Float64Array([Math.E, Number.MAX_VALUE])],
    ["bigint64array", new BigInt64Array([-9223372036854775808n, 1n])],
    ["biguint64array", new BigUint64Array([18446744073709551615n])],
    ["dataview", new DataView(new Uint8Array([1, 2, 3, 4]).buffer, 1, 2)],
    ["value:largest", new Uint8Array(128 * 1024).fill(7)],
    ["ключ 🔑 key", "a key outside ASCII"],
    ["\u{10FFFF}last", "the largest code point"],
    ["", "the empty key"],
    ["k".repeat(2048), "a key of 2048 bytes"],
  ];
  return new Map(values);
}

export interface SampleRoom {
  readonly ref: RoomRef;
  readonly values: Map<string, unknown>;
  readonly alarm: number | null;
}

/** Rooms across two parties: every type in one, small ones, one with only an alarm. */
export function sampleRooms(): SampleRoom[] {
  const rooms: SampleRoom[] = [
    { ref: { party: "main", room: "every-type" }, values: everyStorableType(), alarm: 1_900_000_000_000 },
    { ref: { party: "main", room: "room-ü-🎈" }, values: new Map<string, unknown>([["count", 3], ["names", ["a", "b"]]]), alarm: null },
    { ref: { party: "main", room: "alarm-only" }, values: new Map(), alarm: 1_900_000_123_456 },
    { ref: { party: "docs", room: "doc:1" }, values: new Map([["yjs:snap:0", new Uint8Array([1, 2, 3])]]), alarm: null },
  ];
  for (let i = 0; i < 20; i++) rooms.push({ ref: { party: "docs", room: `doc:${String(i).padStart(3, "0")}` }, values: new Map([["n", i]]), alarm: i % 5 === 0 ? 1_900_000_000_000 + i : null });
  return rooms;
}

/** A storage service on a real engine, and what closes it. */
export interface OpenService {
  readonly service: StorageService;
  readonly engine: StorageEngine;
  close(): Promise<void>;
}

export function sqliteService(dir: string): OpenService {
  const engine = SqliteEngine.open({ dir, durability: "normal" });
  const service = new GroupCommitStorageService(engine);
  return { service, engine, close: () => service.close() };
}

export async function postgresService(url: string): Promise<OpenService> {
  const { engine, stop } = await openPostgresEngine(url);
  const service = new GroupCommitStorageService(engine);
  return {
    service,
    engine,
    async close() {
      await service.close();
      await stop();
    },
  };
}

/** `storage.list()` of one room, decoded. */
export async function listRoom(open: OpenService, ref: RoomRef): Promise<Map<string, unknown>> {
  const storage = roomOf(open.service, ref);
  const listed = await storage.list();
  await storage.close();
  return listed;
}

export function roomOf(service: StorageService, ref: RoomRef): RoomStorage {
  return service.room(ref, new RecordingHooks());
}

export async function writeSampleRooms(service: StorageService, rooms: readonly SampleRoom[]): Promise<void> {
  for (const { ref, values, alarm } of rooms) {
    const storage = roomOf(service, ref);
    for (const [key, value] of values) void storage.put(key, value);
    if (alarm !== null) void storage.setAlarm(alarm);
    await storage.sync();
    await storage.close();
  }
}

/**
 * What a room gives back: `storage.list()` (re-serialized, which compares types, prototypes and
 * shared references exactly, and an invalid Date, which deepStrictEqual never finds equal), the
 * stored bytes, and the alarm.
 */
export interface RoomContent {
  readonly listed: string;
  readonly bytes: Array<[string, string]>;
  readonly alarm: number | null;
}

export async function readRooms(open: OpenService, refs: readonly RoomRef[]): Promise<Map<string, RoomContent>> {
  const contents = new Map<string, RoomContent>();
  for (const ref of refs) {
    const storage = roomOf(open.service, ref);
    const listed = await storage.list();
    const alarm = await storage.getAlarm();
    await storage.close();
    const bytes = (await open.engine.list(ref, {})).map(([key, value]): [string, string] => [key, Buffer.from(value).toString("hex")]);
    contents.set(`${ref.party}/${ref.room}`, { listed: v8.serialize([...listed]).toString("hex"), bytes, alarm });
  }
  return contents;
}

/** A Writable that keeps what it is given, and the text of it. */
export class Collect extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer | string, _encoding: BufferEncoding, done: () => void): void {
    this.chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
    done();
  }
  get text(): string {
    return Buffer.concat(this.chunks).toString("utf8");
  }
}

export function readableOf(text: string): Readable {
  return Readable.from([Buffer.from(text, "utf8")]);
}
