// Data benchmark (`npm run bench:data`): export and import throughput of a store with many rooms,
// next to `sqlite3 .dump` / `pg_dump` of the same data in the same run, and how long a backup
// through the admin listener makes a serving room's writes wait.
//
//   node --import tsx bench/data/run.ts [--quick] [--no-pg] [--no-pause] [--pause-only]
//
// Full: 10,000 rooms × 50 keys × ~2 KB values (1 GB of keys and values). --quick: 1,000 rooms ×
// 20 keys (40 MB), under a minute. Needs the `sqlite3` and `pg_dump`/`psql` programs for the
// reference rows (a row whose program is missing says so and is skipped) and PostgreSQL on
// 127.0.0.1:5432 (or PARTYHOUSE_BENCH_POSTGRES=<url of a database to create others from>).
// The JSON goes to bench/results/data-<timestamp>.json.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { SqliteStore } from "../../src/data/sqlite-store.js";
import type { EntryRecord, AlarmRecord } from "../../src/data/records.js";
import { encodeValue } from "../../src/storage/values.js";
import { repoRoot, resultsDir } from "../lib/paths.js";
import { measurePause, type PauseFigures } from "./pause.js";

const quick = process.argv.includes("--quick");
const withPg = !process.argv.includes("--no-pg");
const withPause = !process.argv.includes("--no-pause");
const pauseOnly = process.argv.includes("--pause-only");
const ROOMS = quick ? 1_000 : 10_000;
const KEYS = quick ? 20 : 50;
const VALUE_CHARS = 1_950;
const bin = path.join(repoRoot, "bin/partyhouse.js");
const adminUrl = process.env.PARTYHOUSE_BENCH_POSTGRES ?? "postgres://postgres@127.0.0.1:5432/postgres";

interface Row {
  readonly what: string;
  readonly seconds: number | null;
  /** Peak resident memory of the process (VmHWM, sampled; Linux only). */
  readonly peakMb?: number;
  readonly note?: string;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), "partyhouse-bench-data-"));
const databases: string[] = [];
const rows: Row[] = [];

async function main(): Promise<void> {
  console.log(`data bench: ${ROOMS} rooms × ${KEYS} keys, in ${work}${quick ? " (quick)" : ""}`);
  // The pause rounds serve `restored` (a data folder: its store is in data/).
  const source = pauseOnly ? path.join(work, "restored", "data") : path.join(work, "source");
  const generated = await timed(() => generate(source));
  const dataBytes = generated.result;
  console.log(`generated ${mb(dataBytes)} of keys and values in ${generated.seconds.toFixed(1)} s`);
  const db = path.join(source, "storage.sqlite3");
  const exportFile = path.join(work, "export.jsonl");
  if (pauseOnly) {
    console.log("backup pause: 32 writers through partyhouse start, with and without a backup running…");
    const pause = await measurePause({ bin, dataFolder: path.join(work, "restored"), work, baselineMs: quick ? 2_000 : 5_000, rounds: quick ? 1 : 3 });
    return report(dataBytes, undefined, pause);
  }

  await row("export, SQLite → file (partyhouse export)", () => run(process.execPath, [bin, "export", exportFile, "--from", source]));
  await row("  reference: sqlite3 .dump", () => run("sqlite3", [db, ".dump"], path.join(work, "dump.sql")));
  await row("import, file → SQLite (partyhouse restore)", () => run(process.execPath, [bin, "restore", exportFile, "--to", path.join(work, "restored")]));
  await row("  reference: sqlite3 < dump", () => run("sqlite3", [path.join(work, "ref.sqlite3"), `.read ${path.join(work, "dump.sql")}`]));
  if (withPg) {
    const pgTarget = await createDatabase();
    await row("import, file → PostgreSQL (partyhouse restore)", () => run(process.execPath, [bin, "restore", exportFile, "--to", pgTarget]));
    await row("export, PostgreSQL → file (partyhouse export)", () => run(process.execPath, [bin, "export", path.join(work, "export-pg.jsonl"), "--from", pgTarget]));
    await row("  reference: pg_dump", () => run("pg_dump", ["--no-owner", "-d", pgTarget, "-f", path.join(work, "pgdump.sql")]));
    const pgRef = await createDatabase();
    await row("  reference: psql < pg_dump", () => run("psql", ["-q", "-v", "ON_ERROR_STOP=1", "-d", pgRef, "-f", path.join(work, "pgdump.sql")]));
    const pgMigrated = await createDatabase();
    await row("migrate SQLite → PostgreSQL, verified (partyhouse migrate)", () => run(process.execPath, [bin, "migrate", "--from", source, "--to", pgMigrated]));
  }
  const exportBytes = fs.statSync(exportFile).size;
  let pause: PauseFigures | undefined;
  if (withPause) {
    console.log("backup pause: 32 writers through partyhouse start, with and without a backup running…");
    pause = await measurePause({ bin, dataFolder: path.join(work, "restored"), work, baselineMs: quick ? 2_000 : 5_000, rounds: quick ? 1 : 3 });
  }
  report(dataBytes, exportBytes, pause);
}

/** Writes the store straight into a data folder, in the engine's schema (what a server would have written). */
async function generate(folder: string): Promise<number> {
  const store = SqliteStore.openFolder(folder, { create: true });
  const texts = Array.from({ length: 64 }, () => randomBytes(VALUE_CHARS).toString("base64").slice(0, VALUE_CHARS));
  const mark = { operation: "import" as const, source: "bench", started: new Date().toISOString() };
  await store.begin(mark, true);
  let bytes = 0;
  for (let first = 0; first < ROOMS; first += 100) {
    const entries: EntryRecord[] = [];
    const alarms: AlarmRecord[] = [];
    for (let r = first; r < Math.min(ROOMS, first + 100); r++) {
      const room = `room-${String(r).padStart(5, "0")}`;
      for (let k = 0; k < KEYS; k++) {
        const key = Buffer.from(`key:${String(k).padStart(3, "0")}`);
        const stored = encodeValue({ room: r, key: k, at: 1_764_000_000_000 + k, text: texts[(r + k) % texts.length] }).bytes;
        const value = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength);
        entries.push({ kind: "entry", party: "main", room, key, value });
        bytes += key.byteLength + value.byteLength;
      }
      if (r % 10 === 0) alarms.push({ kind: "alarm", party: "main", room, time: 2_000_000_000_000 + r });
    }
    await store.apply({ wipes: [], entries, alarms }, mark);
  }
  await store.finish();
  await store.close();
  return bytes;
}

async function row(what: string, action: () => Promise<number | undefined>): Promise<void> {
  try {
    const { seconds, result: peak } = await timed(action);
    rows.push({ what, seconds, ...(peak !== undefined ? { peakMb: peak / 1e6 } : {}) });
    console.log(`${what}: ${seconds.toFixed(2)} s${peak !== undefined ? `, peak RSS ${mb(peak)}` : ""}`);
  } catch (error) {
    rows.push({ what, seconds: null, note: (error as Error).message });
    console.log(`${what}: skipped (${(error as Error).message})`);
  }
}

async function timed<T>(action: () => Promise<T>): Promise<{ seconds: number; result: T }> {
  const started = performance.now();
  const result = await action();
  return { seconds: (performance.now() - started) / 1000, result };
}

/**
 * Runs a program to its end; stdout to `output` when given. Resolves with its peak resident
 * memory (bytes) where /proc tells it. Rejects on a missing program or a failure.
 */
function run(program: string, args: string[], output?: string): Promise<number | undefined> {
  if (program !== process.execPath && spawnSync("which", [program]).status !== 0) {
    return Promise.reject(new Error(`${program} is not installed (apt-get install -y ${program === "sqlite3" ? "sqlite3" : "postgresql-client"})`));
  }
  return new Promise((resolve, reject) => {
    const out = output === undefined ? "ignore" : fs.openSync(output, "w");
    const child = spawn(program, args, { stdio: ["ignore", out, "pipe"] });
    let stderr = "";
    let peak: number | undefined;
    const sampler = setInterval(() => {
      const hwm = /VmHWM:\s+(\d+) kB/.exec(readStatus(child.pid));
      if (hwm) peak = Math.max(peak ?? 0, Number(hwm[1]) * 1024);
    }, 50);
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      clearInterval(sampler);
      if (typeof out === "number") fs.closeSync(out);
      if (code === 0) resolve(peak);
      else reject(new Error(`${path.basename(program)} exited with ${code}: ${stderr.trim().split("\n").slice(-2).join(" ")}`));
    });
  });
}

function readStatus(pid: number | undefined): string {
  try {
    return fs.readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return "";
  }
}

async function createDatabase(): Promise<string> {
  const name = `ph_bench_${randomBytes(5).toString("hex")}`;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  databases.push(name);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function cleanUp(): Promise<void> {
  if (databases.length > 0) {
    const client = new pg.Client({ connectionString: adminUrl });
    await client.connect();
    for (const name of databases) await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await client.end();
  }
  fs.rmSync(work, { recursive: true, force: true });
}

function report(dataBytes: number, exportBytes: number | undefined, pause: PauseFigures | undefined): void {
  const keys = ROOMS * KEYS;
  const lines = [
    "",
    `${ROOMS.toLocaleString("en")} rooms, ${keys.toLocaleString("en")} keys, ${mb(dataBytes)} of keys and values${exportBytes === undefined ? "" : ` (export file ${mb(exportBytes)})`}; ` +
      `Node ${process.version}, ${os.cpus().length} CPUs, load average ${os.loadavg().map((n) => n.toFixed(1)).join(" ")} at the end`,
    "",
    "| step | seconds | MB/s | keys/s | peak RSS (MB) |",
    "|:--|--:|--:|--:|--:|",
    ...rows.map((r) =>
      r.seconds === null
        ? `| ${r.what} | skipped: ${r.note} | | | |`
        : `| ${r.what} | ${r.seconds.toFixed(2)} | ${(dataBytes / 1e6 / r.seconds).toFixed(1)} | ${Math.round(keys / r.seconds).toLocaleString("en")} | ${r.peakMb?.toFixed(0) ?? ""} |`,
    ),
  ];
  if (pause) {
    const ms = (value: number) => value.toFixed(1);
    lines.push(
      "",
      "| 32 writers, write → reply latency (ms) | requests | p50 | p99 | max |",
      "|:--|--:|--:|--:|--:|",
      `| no backup running | ${pause.baseline.count} | ${ms(pause.baseline.p50)} | ${ms(pause.baseline.p99)} | ${ms(pause.baseline.max)} |`,
      `| while \`partyhouse backup --admin\` runs (${pause.backupSeconds.toFixed(1)} s each) | ${pause.during.count} | ${ms(pause.during.p50)} | ${ms(pause.during.p99)} | ${ms(pause.during.max)} |`,
      "",
      `${pause.rounds} round(s) of a quiet window then a backup, pooled. Added p99: ${ms(pause.during.p99 - pause.baseline.p99)} ms (target ≤ 20 ms); ` +
        `a snapshot ran up to ${pause.slices ?? "?"} slices on the server's event loop, the longest ${pause.longestSliceMs?.toFixed(2) ?? "?"} ms; ` +
        `the server's longest event-loop delay was ${ms(pause.loopMaxMs.quiet)} ms in the quiet windows and ${ms(pause.loopMaxMs.backup)} ms during backups`,
    );
  }
  const text = lines.join("\n");
  console.log(text);
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = path.join(resultsDir, `data-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
  fs.writeFileSync(file, JSON.stringify({ quick, rooms: ROOMS, keys, dataBytes, exportBytes, rows, pause, loadavg: os.loadavg() }, null, 2));
  console.log(`\n(${path.relative(repoRoot, file)})`);
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => cleanUp());
