import type * as Party from "partykit/server";
import { errorText, json } from "./shared.js";

async function attempt(fn: () => Promise<unknown>): Promise<string> {
  try {
    const result = await fn();
    return `ok ${describe(result)}`;
  } catch (error) {
    return errorText(error);
  }
}

function describe(value: unknown): string {
  if (value instanceof Map) return `Map{${[...value].map(([k, v]) => `${k}=${describe(v)}`).join(",")}}`;
  if (value instanceof Set) return `Set{${[...value].map(describe).join(",")}}`;
  if (value instanceof Date) return `Date(${Number.isNaN(value.getTime()) ? "invalid" : value.toISOString()})`;
  if (value instanceof Uint8Array) return `Uint8Array[${[...value].join(",")}]`;
  if (value instanceof ArrayBuffer) return `ArrayBuffer(${value.byteLength})`;
  if (value instanceof RegExp) return `RegExp(${String(value)})`;
  if (value instanceof Error) return `Error(${value.name}: ${value.message})`;
  if (typeof value === "bigint") return `${value}n`;
  if (value === undefined) return "undefined";
  if (typeof value === "number" && Object.is(value, -0)) return "-0";
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (Array.isArray(value)) return `[${value.map(describe).join(",")}]`;
  if (value !== null && typeof value === "object") {
    return `{${Object.entries(value).map(([k, v]) => `${k}:${describe(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

const ORDER_KEYS = ["user:2", "é", "a", "0", "user:10", "😀", "B", "", "_", "aa", "user:1", "\u{e000}"];

// Storage basics, each scenario run in a fresh room so the two servers start from the same state.
export default class Store implements Party.Server {
  constructor(readonly room: Party.Room) {}

  async onRequest(req: Party.Request) {
    const storage = this.room.storage;
    const scenario = new URL(req.url).searchParams.get("do");
    const report: Record<string, string> = {};
    switch (scenario) {
      case "basics": {
        report.getMissing = await attempt(() => storage.get("missing"));
        report.put = await attempt(() => storage.put("k", { a: 1 }));
        report.get = await attempt(() => storage.get("k"));
        report.putMany = await attempt(() => storage.put({ k2: 2, k3: "three" }));
        report.getMany = await attempt(() => storage.get(["k", "k2", "nope", "k3"]));
        report.deleteOne = await attempt(() => storage.delete("k"));
        report.deleteAgain = await attempt(() => storage.delete("k"));
        report.deleteMany = await attempt(() => storage.delete(["k2", "k3", "nope"]));
        report.listAfter = await attempt(() => storage.list());
        const stored = { nested: { n: 1 } };
        await storage.put("copy", stored);
        const first = (await storage.get<typeof stored>("copy"))!;
        first.nested.n = 2;
        report.copyOnGet = await attempt(() => storage.get("copy"));
        break;
      }
      case "order": {
        for (const key of ORDER_KEYS) await storage.put(key, key.length);
        report.list = await attempt(async () => [...(await storage.list()).keys()]);
        report.reverse = await attempt(async () => [...(await storage.list({ reverse: true, limit: 3 })).keys()]);
        report.prefix = await attempt(async () => [...(await storage.list({ prefix: "user:" })).keys()]);
        report.range = await attempt(async () => [...(await storage.list({ start: "a", end: "user:2" })).keys()]);
        report.startAfter = await attempt(async () => [...(await storage.list({ startAfter: "a", limit: 2 })).keys()]);
        report.prefixStart = await attempt(async () => [...(await storage.list({ prefix: "user:", start: "user:10" })).keys()]);
        report.empty = await attempt(async () => [...(await storage.list({ start: "b", end: "a" })).keys()]);
        break;
      }
      case "values": {
        const sparse = [1, , 3];
        const cyclic: { self?: unknown; name: string } = { name: "c" };
        cyclic.self = cyclic;
        const values: Record<string, unknown> = {
          map: new Map([["a", 1]]),
          set: new Set([1, "two"]),
          date: new Date(0),
          invalidDate: new Date(NaN),
          bytes: new Uint8Array([1, 2, 3, 4]).subarray(1, 3),
          buffer: new ArrayBuffer(5),
          bigint: 12345678901234567890n,
          regexp: /ab+c/gi,
          error: new RangeError("kept"),
          special: [-0, NaN, Infinity, -Infinity, undefined, null],
          sparse,
        };
        for (const [key, value] of Object.entries(values)) {
          report[key] = await attempt(async () => {
            await storage.put(key, value);
            return storage.get(key);
          });
        }
        report.cycle = await attempt(async () => {
          await storage.put("cycle", cyclic);
          const back = (await storage.get<typeof cyclic>("cycle"))!;
          return back.self === back;
        });
        report.function = await attempt(() => storage.put("fn", { f: () => 1 }));
        report.symbol = await attempt(() => storage.put("sym", Symbol("s")));
        break;
      }
      case "limits": {
        report.key2048 = await attempt(() => storage.put("k".repeat(2048), 1));
        report.key2049 = await attempt(() => storage.put("k".repeat(2049), 1));
        report.keyMultibyte = await attempt(() => storage.put("é".repeat(1025), 1));
        report.valueOk = await attempt(() => storage.put("v", "x".repeat(131000)));
        report.valueTooBig = await attempt(() => storage.put("v2", "x".repeat(140000)));
        report.afterTooBig = await attempt(() => storage.get("v2"));
        report.get128 = await attempt(async () => (await storage.get(Array.from({ length: 128 }, (_, i) => `g${i}`))).size);
        report.get129 = await attempt(() => storage.get(Array.from({ length: 129 }, (_, i) => `g${i}`)));
        report.batchWithBadKey = await attempt(() => storage.put({ good: 1, ["k".repeat(2049)]: 2 }));
        report.afterBadBatch = await attempt(() => storage.get("good"));
        report.listLimit0 = await attempt(() => storage.list({ limit: 0 }));
        report.listLimitNegative = await attempt(() => storage.list({ limit: -1 }));
        break;
      }
      case "transaction": {
        await storage.put("t", 1);
        report.rollbackByThrow = await attempt(() =>
          storage.transaction(async (txn) => {
            await txn.put("t", 2);
            throw new Error("undo");
          }),
        );
        report.afterThrow = await attempt(() => storage.get("t"));
        report.rollbackCall = await attempt(() =>
          storage.transaction(async (txn) => {
            await txn.put("t", 3);
            txn.rollback();
            return "rolled back";
          }),
        );
        report.afterRollback = await attempt(() => storage.get("t"));
        report.commit = await attempt(() =>
          storage.transaction(async (txn) => {
            await txn.put("t", 4);
            return txn.get("t");
          }),
        );
        report.deleteAll = await attempt(async () => {
          await storage.deleteAll();
          return storage.list();
        });
        break;
      }
      case "unawaited": {
        // Writes are visible to reads at once, even when nobody awaits them.
        void storage.put("u1", "one");
        void storage.put("u2", "two");
        void storage.delete("u1");
        report.list = await attempt(() => storage.list());
        break;
      }
      default:
        return new Response("unknown scenario", { status: 400 });
    }
    return json(report);
  }
}
