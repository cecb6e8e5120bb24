// Storage benchmark: the room storage API on the SQLite engine against a bare better-sqlite3
// loop doing the same commits, in the same run, on the same disk.
//
//   node --import tsx bench/storage/storage.bench.ts [--quick] [--durability=normal]
//
// Each row runs partyhouse and the bare loop in alternating timed windows (several rounds,
// best window kept for each, so background noise hurts both alike) and prints ops/s and the
// ratio partyhouse / bare. The JSON result goes to bench/results/storage-<timestamp>.json.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { RoomStorage, RoomStorageHooks } from "../../src/storage/contract.js";
import { GroupCommitStorageService } from "../../src/storage/service.js";
import { SqliteEngine } from "../../src/storage/sqlite-engine.js";
import { BareSqlite } from "./bare-sqlite.js";

const quick = process.argv.includes("--quick");
const durability = process.argv.includes("--durability=normal") ? "normal" : "full";
const WINDOW_MS = quick ? 300 : 1500;
const ROUNDS = quick ? 2 : 4;
const COALESCED_PER_TURN = 100;
const LIST_SIZE = 1000;

const hooks: RoomStorageHooks = {
  operationStarted() {},
  operationEnded() {},
  alarmCommitted() {},
  writeFailed(error) {
    throw error;
  },
};

const smallValue = (i: number) => ({ n: i, text: "hello world", at: 1_700_000_000_000 });

interface Row {
  name: string;
  /** ops per wall-clock second */
  partyhouse: number;
  bare: number;
  /** ops per CPU second of the benchmark process */
  partyhouseCpu: number;
  bareCpu: number;
  target?: { minRatio?: number; minPartyhouse?: number };
}

/**
 * Runs `step` (which does some ops and returns how many) repeatedly for WINDOW_MS. Gives ops
 * per wall-clock second, and per CPU second of this process, which stays meaningful when other
 * work on the machine takes the CPU away (it is not a fair measure of fsync-bound rows).
 */
async function window(step: () => Promise<number> | number): Promise<{ wall: number; cpu: number }> {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  let ops = 0;
  let elapsed = 0;
  while ((elapsed = performance.now() - start) < WINDOW_MS) ops += await step();
  const cpu = process.cpuUsage(cpuStart);
  return { wall: (ops * 1000) / elapsed, cpu: (ops * 1e6) / Math.max(1, cpu.user + cpu.system) };
}

async function compare(
  name: string,
  partyhouseStep: () => Promise<number> | number,
  bareStep: () => Promise<number> | number,
  target?: Row["target"],
): Promise<Row> {
  const best = { partyhouse: { wall: 0, cpu: 0 }, bare: { wall: 0, cpu: 0 } };
  const keep = (who: "partyhouse" | "bare", rate: { wall: number; cpu: number }) => {
    best[who].wall = Math.max(best[who].wall, rate.wall);
    best[who].cpu = Math.max(best[who].cpu, rate.cpu);
  };
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate who goes first so drift hits both.
    if (round % 2 === 0) {
      keep("partyhouse", await window(partyhouseStep));
      keep("bare", await window(bareStep));
    } else {
      keep("bare", await window(bareStep));
      keep("partyhouse", await window(partyhouseStep));
    }
  }
  process.stderr.write(`  ${name}: partyhouse ${Math.round(best.partyhouse.wall)}/s, bare ${Math.round(best.bare.wall)}/s\n`);
  return {
    name,
    partyhouse: best.partyhouse.wall,
    bare: best.bare.wall,
    partyhouseCpu: best.partyhouse.cpu,
    bareCpu: best.bare.cpu,
    ...(target ? { target } : {}),
  };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "partyhouse-storage-bench-"));
  const engine = SqliteEngine.open({ dir, durability });
  const service = new GroupCommitStorageService(engine);
  const uncachedEngine = SqliteEngine.open({ dir: path.join(dir, "uncached"), durability });
  const uncachedService = new GroupCommitStorageService(uncachedEngine, { cacheBytesPerRoom: 0 });
  const bare = new BareSqlite(dir, durability);
  const rows: Row[] = [];
  try {
    const room = service.room({ party: "main", room: "bench" }, hooks);
    let counter = 0;

    rows.push(
      await compare(
        "durable single puts (put, then await sync(), one by one)",
        async () => {
          // put() settles once the write is in memory; sync() once it is durable.
          await room.put(`single:${counter++ % 1000}`, smallValue(counter));
          await room.sync();
          return 1;
        },
        () => {
          bare.commit([[`single:${counter++ % 1000}`, smallValue(counter)]]);
          return 1;
        },
      ),
    );

    rows.push(
      await compare(
        `coalesced puts (${COALESCED_PER_TURN} un-awaited per turn, then await sync())`,
        async () => {
          for (let i = 0; i < COALESCED_PER_TURN; i++) void room.put(`many:${i}`, smallValue(counter++));
          await room.sync();
          return COALESCED_PER_TURN;
        },
        () => {
          const entries: Array<[string, unknown]> = [];
          for (let i = 0; i < COALESCED_PER_TURN; i++) entries.push([`many:${i}`, smallValue(counter++)]);
          bare.commit(entries);
          return COALESCED_PER_TURN;
        },
        { minRatio: 0.5 },
      ),
    );

    await fillForReads(room, uncachedService.room({ party: "main", room: "bench" }, hooks), bare);
    const uncachedRoom = uncachedService.room({ party: "main", room: "bench" }, hooks);
    const GETS_PER_STEP = 1000;

    rows.push(
      await compare(
        "cached gets (small object, fresh copy each)",
        async () => {
          for (let i = 0; i < GETS_PER_STEP; i++) await room.get(`read:${i & 255}`);
          return GETS_PER_STEP;
        },
        () => {
          for (let i = 0; i < GETS_PER_STEP; i++) bare.read(`read:${i & 255}`);
          return GETS_PER_STEP;
        },
        { minPartyhouse: 1_000_000 },
      ),
    );

    rows.push(
      await compare(
        "uncached gets (cache off)",
        async () => {
          for (let i = 0; i < GETS_PER_STEP; i++) await uncachedRoom.get(`read:${i % LIST_SIZE}`);
          return GETS_PER_STEP;
        },
        () => {
          for (let i = 0; i < GETS_PER_STEP; i++) bare.read(`read:${i % LIST_SIZE}`);
          return GETS_PER_STEP;
        },
      ),
    );

    const bareList = () => {
      const listed = bare.readRange("read:", LIST_SIZE);
      if (listed.size !== LIST_SIZE) throw new Error(`listed ${listed.size}`);
      return 1;
    };
    for (const [label, reader] of [["cached room", room], ["cache off", uncachedRoom]] as const) {
      rows.push(
        await compare(
          `list of ${LIST_SIZE.toLocaleString("en-US")} keys, ${label} (lists/s)`,
          async () => {
            const listed = await reader.list({ prefix: "read:", limit: LIST_SIZE });
            if (listed.size !== LIST_SIZE) throw new Error(`listed ${listed.size}`);
            return 1;
          },
          bareList,
        ),
      );
    }
  } finally {
    await service.close();
    await uncachedService.close();
    bare.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  report(rows);
}

/** LIST_SIZE keys under "read:" in all three stores; the cached room has them in its cache. */
async function fillForReads(room: RoomStorage, uncachedRoom: RoomStorage, bare: BareSqlite): Promise<void> {
  const entries: Array<[string, unknown]> = [];
  for (let i = 0; i < LIST_SIZE; i++) entries.push([`read:${i}`, smallValue(i)]);
  for (let i = 0; i < entries.length; i += 100) {
    const slice = Object.fromEntries(entries.slice(i, i + 100));
    await Promise.all([room.put(slice), uncachedRoom.put(slice)]);
  }
  bare.commit(entries);
  for (let i = 0; i < 256; i++) await room.get(`read:${i}`);
}

function report(rows: Row[]): void {
  const verdict = (row: Row): string => {
    if (!row.target) return "";
    const ratio = row.partyhouse / row.bare;
    if (row.target.minRatio !== undefined) {
      return `target ≥ ${row.target.minRatio.toFixed(2)}x: ${ratio >= row.target.minRatio ? "ok" : "MISS"}`;
    }
    const min = row.target.minPartyhouse!;
    return `target ≥ ${min.toLocaleString("en-US")}/s: ${row.partyhouse >= min ? "ok" : "MISS"}`;
  };
  const table = [
    ["storage (SQLite, synchronous=" + (durability === "full" ? "FULL" : "NORMAL") + ")", "partyhouse /s", "bare /s", "ratio", "partyhouse /cpu-s", "bare /cpu-s", ""],
    ...rows.map((row) => [
      row.name,
      Math.round(row.partyhouse).toLocaleString("en-US"),
      Math.round(row.bare).toLocaleString("en-US"),
      `${(row.partyhouse / row.bare).toFixed(2)}x`,
      Math.round(row.partyhouseCpu).toLocaleString("en-US"),
      Math.round(row.bareCpu).toLocaleString("en-US"),
      verdict(row),
    ]),
  ];
  const widths = table[0]!.map((_, column) => Math.max(...table.map((line) => line[column]!.length)));
  for (const [index, line] of table.entries()) {
    process.stdout.write(line.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join("  ").trimEnd() + "\n");
    if (index === 0) process.stdout.write(widths.map((width) => "-".repeat(width)).join("  ") + "\n");
  }
  const resultsDir = fileURLToPath(new URL("../results/", import.meta.url));
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `storage-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  const result = {
    benchmark: "storage",
    command: `node --import tsx bench/storage/storage.bench.ts${quick ? " --quick" : ""}${durability === "normal" ? " --durability=normal" : ""}`,
    durability,
    windowMs: WINDOW_MS,
    rounds: ROUNDS,
    node: process.version,
    cpus: os.cpus().length,
    loadAverage: os.loadavg(),
    rows: rows.map((row) => ({ ...row, ratio: row.partyhouse / row.bare })),
  };
  fs.writeFileSync(file, JSON.stringify(result, null, 2) + "\n");
  process.stdout.write(`\nresult: ${path.relative(process.cwd(), file)}\n`);
}

await main();
