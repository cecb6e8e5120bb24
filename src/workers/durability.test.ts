/**
 * Durability across processes (`--workers 2`), at the level of system calls: the supervisor
 * and its workers run under `strace -f` while HTTP writers get acknowledgements, then every
 * process is SIGKILLed. The workers share one WAL and only the supervisor's thread checkpoints,
 * so the single-process rules (sqlite-engine-sync.test.ts) become rules about which process
 * does what, read from one trace of all of them:
 *
 * - the answer to write n (its body says `"wrote":n`) comes after a WAL sync by the answering
 *   worker that started after that worker wrote a commit frame, itself after the supervisor
 *   handed it the request for write n: no answer without a sync of this worker's own commit
 *   (another process's sync, or one from before the request, does not count). The rule cannot
 *   name the commit holding write n (the worker commits several rooms' writes in a row), so it
 *   takes the first commit after the request: sound, a little weaker than single-process's;
 * - the checkpointer copies into the database only after it synced the WAL in the same run,
 *   and the WAL is rewound (its header written at offset 0) only after the database file was
 *   synced following the last copy into it, whichever process rewinds;
 * - no main thread (supervisor's or a worker's) syncs while serving;
 * - after the kill, every acknowledged write is in the database.
 *
 * Skipped where strace is missing or not allowed to trace (CI installs it).
 */
import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import fs from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { before, test } from "node:test";
import Database from "better-sqlite3";
import { ensureBuilt } from "../cli/test-support.js";
import { SyncCollector, readTrace, straceWorks } from "../storage/strace-test-support.js";
import { fixtureProject, send, sleep } from "./test-support.js";

const BIN = fileURLToPath(new URL("../../bin/partyhouse.js", import.meta.url));
/** Long enough for several of the supervisor's 250 ms checkpoints. */
const WRITE_MS = 2_000;

before(() => ensureBuilt());

function tasksOf(pid: number): Set<number> {
  return new Set(fs.readdirSync(`/proc/${pid}/task`).map(Number));
}

/** The bytes of a C-escaped string as strace prints it. */
function unescape(text: string): number[] {
  const bytes: number[] = [];
  const named: Record<string, number> = { n: 10, r: 13, t: 9, v: 11, f: 12, "\\": 92, '"': 34 };
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== "\\") {
      bytes.push(text.charCodeAt(i));
      continue;
    }
    const octal = /^[0-7]{1,3}/.exec(text.slice(i + 1));
    if (octal) {
      bytes.push(parseInt(octal[0], 8));
      i += octal[0].length;
    } else {
      bytes.push(named[text[i + 1]!] ?? text.charCodeAt(i + 1));
      i++;
    }
  }
  return bytes;
}

/** A WAL frame header (24 bytes) whose "database size after commit" is set: the last frame of a transaction. */
function isCommitFrameHeader(text: string): boolean {
  const match = /^pwrite64\(\d+<[^>]*>, "((?:[^"\\]|\\.)*)", 24, \d+/.exec(text);
  if (!match) return false;
  const header = unescape(match[1]!);
  return header.length === 24 && header.slice(4, 8).some((byte) => byte !== 0);
}

test("acknowledged writes are synced by their worker first, checkpoints keep SQLite's order across processes, and all survive a kill", { skip: !straceWorks && "strace cannot trace here (install it: apt-get install strace)", timeout: 180_000 }, async () => {
  const dir = fixtureProject();
  const traceFile = join(dir, "trace.txt");
  const strace = spawn(
    "strace",
    ["-f", "-y", "-s", "256", "-e", "trace=write,writev,sendmsg,pwrite64,fsync,fdatasync", "-o", traceFile, process.execPath, BIN, "start", "--port", "0", "--host", "127.0.0.1", "--workers", "2"],
    { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
  );
  const exited = new Promise<void>((resolve) => strace.once("exit", () => resolve()));
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready under strace in 90 s:\n${output}`)), 90_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /ready on (http:\/\/[^\s]+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    strace.stdout!.on("data", onData);
    strace.stderr!.on("data", onData);
  });
  const supervisor = Number(fs.readFileSync(`/proc/${strace.pid}/task/${strace.pid}/children`, "utf8").trim().split(/\s+/)[0]);
  const workers = new Set<number>();
  const acknowledged = new Map<string, number[]>();
  let threadsOf = new Map<number, Set<number>>();
  try {
    // Rooms on both workers; every request on a connection of its own, so the room's owner
    // itself answers (a kept-alive connection could be another worker's, which forwards).
    const rooms: string[] = [];
    for (let i = 0; workers.size < 2 || rooms.length < 4; i++) {
      const answer = await send(url, `/parties/main/sync-${i}`);
      workers.add((JSON.parse(answer.body) as { pid: number }).pid);
      rooms.push(`sync-${i}`);
    }
    let writing = true;
    let n = 0;
    const writer = async (room: string) => {
      acknowledged.set(room, []);
      while (writing) {
        const write = ++n;
        const answer = await send(url, `/parties/main/${room}?write=${write}`, { method: "POST" });
        if (answer.status === 200) acknowledged.get(room)!.push(write);
      }
    };
    const writers = rooms.map((room) => writer(room));
    // Until the trace shows a WAL restart after a checkpoint (so the rules below are exercised), within bounds.
    const started = Date.now();
    while (Date.now() - started < WRITE_MS || (!/-wal>, "[^\n]*", 32, 0\)/.test(fs.readFileSync(traceFile, "utf8").split("partyhouse ready on")[1] ?? "") && Date.now() - started < 15_000)) {
      await sleep(250);
    }
    writing = false;
    await Promise.all(writers);
  } finally {
    // Threads are read before the kill: which tids are whose.
    threadsOf = new Map([supervisor, ...workers].map((pid) => [pid, tasksOf(pid)]));
    for (const pid of [...workers, supervisor]) process.kill(pid, "SIGKILL");
    await exited;
  }

  const lines = readTrace(traceFile);
  const processOf = (tid: number) => [...threadsOf].find(([, tids]) => tids.has(tid))?.[0];
  const walWrites: number[] = [];
  const rewinds: number[] = [];
  const databaseWrites: number[] = [];
  const answers: Array<{ line: number; write: number }> = [];
  /** Write n → the line where the supervisor handed its request to a worker. */
  const handedOff = new Map<number, number>();
  const commitFrames: number[] = [];
  const collector = new SyncCollector();
  const syncs = collector.syncs;
  let ready = -1;
  lines.forEach((line, index) => {
    const { tid, text } = line;
    if (collector.see(line, index)) return;
    if (/^pwrite64\(\d+<[^>]*-wal>/.test(text)) {
      walWrites.push(index);
      if (/, 32, 0\)/.test(text)) rewinds.push(index);
      if (isCommitFrameHeader(text)) commitFrames.push(index);
    } else if (/^pwrite64\(\d+<[^>]*storage\.sqlite3>/.test(text)) databaseWrites.push(index);
    else if (/^(write|writev)\(\d+<(TCP|socket):[^>]*>, .*HTTP\/1\.1 200 /.test(text) && workers.has(processOf(tid) ?? -1)) {
      const wrote = /\\"wrote\\":(\d+)/.exec(text);
      if (wrote) answers.push({ line: index, write: Number(wrote[1]) });
    } else if (/^write\(1<[^>]*>, "partyhouse ready on /.test(text)) ready = index;
    else if (processOf(tid) === supervisor) {
      const routed = /\\"type\\":\\"connection\\".*\?write=(\d+) HTTP/.exec(text);
      if (routed) handedOff.set(Number(routed[1]), index);
    }
  });
  const ackCount = [...acknowledged.values()].reduce((sum, list) => sum + list.length, 0);
  assert.ok(ackCount > 50, `enough writes were acknowledged (${ackCount})`);
  assert.equal(answers.length, ackCount, "the trace shows every acknowledgement");
  const sameProcess = (a: number, b: number) => processOf(a) !== undefined && processOf(a) === processOf(b);

  for (const { line: answer, write } of answers) {
    const worker = lines[answer]!.tid;
    const request = handedOff.get(write);
    assert.ok(request !== undefined && request < answer, `write ${write}: the trace shows the supervisor handing its request over before the answer`);
    const commit = commitFrames.find((line) => line > request && sameProcess(lines[line]!.tid, worker));
    assert.ok(commit !== undefined && commit < answer, `write ${write} (answered at trace line ${answer + 1}): its worker wrote no commit frame after the request and before the answer`);
    assert.ok(
      syncs.some((sync) => sync.wal && sameProcess(sync.tid, worker) && sync.start > commit && sync.end < answer),
      `write ${write} answered at trace line ${answer + 1} with no WAL sync by its worker after its commit frame (line ${commit + 1})`,
    );
  }

  // Before the ready line the supervisor created the database; from then on only checkpoints write it.
  assert.ok(ready >= 0, "the trace shows the supervisor's ready line");
  const checkpointWrites = databaseWrites.filter((line) => line > ready);
  assert.ok(checkpointWrites.length > 0, "the run saw a checkpoint");
  for (const write of checkpointWrites) {
    const tid = lines[write]!.tid;
    assert.equal(processOf(tid), supervisor, `only the supervisor writes the database file (line ${write + 1})`);
    const lastDatabaseSync = syncs.filter((sync) => !sync.wal && sync.tid === tid && sync.end < write).at(-1)?.end ?? -1;
    assert.ok(
      syncs.some((sync) => sync.wal && sync.tid === tid && sync.start > lastDatabaseSync && sync.end < write),
      `database write at trace line ${write + 1}: its checkpoint did not sync the WAL first`,
    );
  }
  assert.ok(rewinds.some((line) => line > ready), "the run saw the WAL restart after a checkpoint");
  for (const rewind of rewinds) {
    const lastDatabaseWrite = checkpointWrites.filter((line) => line < rewind).at(-1);
    if (lastDatabaseWrite === undefined) continue;
    assert.ok(
      syncs.some((sync) => !sync.wal && sync.start > lastDatabaseWrite && sync.end < rewind),
      `WAL rewound at trace line ${rewind + 1} before the database copied into at line ${lastDatabaseWrite + 1} was synced`,
    );
  }
  const mainThreadSyncs = syncs.filter((sync) => threadsOf.has(sync.tid) && sync.start > ready);
  assert.deepEqual(mainThreadSyncs.map((sync) => lines[sync.start]!.text), [], "no sync on a main thread while serving");

  const db = new Database(join(dir, ".partyhouse", "data", "storage.sqlite3"));
  try {
    const stored = db.prepare("SELECT kv.key FROM kv JOIN rooms ON rooms.id = kv.room_id WHERE rooms.party = 'main' AND rooms.room = ?").pluck();
    for (const [room, writes] of acknowledged) {
      const keys = new Set((stored.all(room) as Buffer[]).map((key) => key.toString("utf8")));
      for (const write of writes) assert.ok(keys.has(`w:${String(write).padStart(8, "0")}`), `acknowledged write ${write} of ${room} survived the kill`);
    }
  } finally {
    db.close();
  }
});
