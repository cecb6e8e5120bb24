/**
 * Helpers for the storage tests (not a test file itself): real engines in temp folders, hooks
 * that record what storage told the room, and a wrapper that counts engine commits.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { RoomStorage, RoomStorageHooks } from "./contract.js";
import type { CommitOutcome, RoomWrite, StorageEngine } from "./engine.js";
import { MemoryEngine } from "./memory-engine.js";
import { GroupCommitStorageService, type StorageServiceOptions } from "./service.js";
import { SqliteEngine } from "./sqlite-engine.js";
import { createTestDatabase, type TestDatabase } from "../cluster/test-support.js";
import { openPostgresEngine } from "../cluster/engine-test-support.js";

export type EngineKind = "memory" | "sqlite" | "postgres";
/** Every engine runs the same storage suites (the shared engine contract). */
export const ENGINE_KINDS: readonly EngineKind[] = ["memory", "sqlite", "postgres"];

/** Engines whose data outlives a close (a reopen sees it). */
export function isDurable(kind: EngineKind): boolean {
  return kind !== "memory";
}

/** An engine that can be reopened on the same data: a folder, or a PostgreSQL database. */
interface EngineHandle {
  readonly engine: StorageEngine;
  /** Ends whatever the engine needed besides itself (a cluster node), after the engine closed. */
  readonly stop?: () => Promise<void>;
}

export function makeTempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "partyhouse-storage-"));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

export class RecordingHooks implements RoomStorageHooks {
  openOperations = 0;
  started = 0;
  ended = 0;
  readonly alarms: Array<number | null> = [];
  readonly failures: Error[] = [];
  operationStarted(): void {
    this.started++;
    this.openOperations++;
  }
  operationEnded(): void {
    this.ended++;
    this.openOperations--;
  }
  alarmCommitted(time: number | null): void {
    this.alarms.push(time);
  }
  writeFailed(error: Error): void {
    this.failures.push(error);
  }
}

/** Delegates to a real engine, counting commits and optionally failing or fencing them. */
export class CountingEngine implements StorageEngine {
  readonly commits: RoomWrite[][] = [];
  failNext: Error | undefined;
  fenceNext = false;
  /** While set, commits wait for it before reaching the engine (a slow disk, on any engine). */
  private paused: Promise<void> | undefined;
  constructor(readonly inner: StorageEngine) {}
  /** Holds every commit from now on until the returned function is called. */
  pauseCommits(): () => void {
    let release!: () => void;
    this.paused = new Promise((resolve) => (release = resolve));
    return () => {
      this.paused = undefined;
      release();
    };
  }
  get kind() {
    return this.inner.kind;
  }
  claim: StorageEngine["claim"] = (room) => this.inner.claim(room);
  get: StorageEngine["get"] = (room, keys) => this.inner.get(room, keys);
  list: StorageEngine["list"] = (room, query) => this.inner.list(room, query);
  getAlarm: StorageEngine["getAlarm"] = (room) => this.inner.getAlarm(room);
  listAlarms: StorageEngine["listAlarms"] = () => this.inner.listAlarms();
  listRooms: StorageEngine["listRooms"] = (party, after, limit) => this.inner.listRooms(party, after, limit);
  close: StorageEngine["close"] = () => this.inner.close();
  async commit(writes: readonly RoomWrite[]): Promise<CommitOutcome> {
    this.commits.push([...writes]);
    if (this.paused !== undefined) await this.paused;
    const failure = this.failNext;
    this.failNext = undefined;
    if (failure) throw failure;
    if (this.fenceNext) {
      this.fenceNext = false;
      return { fenced: writes.map((write) => write.room) };
    }
    return this.inner.commit(writes);
  }
}

/** A service over a real engine of the given kind, reopenable on the same data. */
export class Harness {
  readonly dir: string | undefined;
  engine!: CountingEngine;
  service!: GroupCommitStorageService;
  private handle: EngineHandle | undefined;
  private database: TestDatabase | undefined;

  private constructor(
    readonly kind: EngineKind,
    private readonly options: StorageServiceOptions = {},
  ) {
    this.dir = kind === "sqlite" ? makeTempDir() : undefined;
  }

  /** A harness on a fresh engine (for postgres: a database of its own, dropped by dispose()). */
  static async create(kind: EngineKind, options: StorageServiceOptions = {}): Promise<Harness> {
    const harness = new Harness(kind, options);
    if (kind === "postgres") harness.database = await createTestDatabase();
    await harness.open();
    return harness;
  }

  private async open(): Promise<void> {
    if (this.kind === "postgres") this.handle = await openPostgresEngine(this.database!.url);
    else if (this.kind === "sqlite") this.handle = { engine: SqliteEngine.open({ dir: this.dir!, durability: "normal" }) };
    else this.handle = { engine: new MemoryEngine() };
    this.engine = new CountingEngine(this.handle.engine);
    this.service = new GroupCommitStorageService(this.engine, this.options);
  }

  room(name = "room", hooks: RoomStorageHooks = new RecordingHooks(), party = "main"): RoomStorage {
    return this.service.room({ party, room: name }, hooks);
  }

  /** Closes and reopens the same data (sqlite, postgres): what a restart sees. */
  async reopen(): Promise<void> {
    await this.service.close();
    await this.handle?.stop?.();
    await this.open();
  }

  /** After sync(): on a durable engine, reopen and return a cold room with the same name; else undefined. */
  async reopenIfDurable(name = "room"): Promise<RoomStorage | undefined> {
    if (!isDurable(this.kind)) return undefined;
    await this.reopen();
    return this.room(name);
  }

  async dispose(): Promise<void> {
    await this.service.close();
    await this.handle?.stop?.();
    if (this.dir) removeDir(this.dir);
    await this.database?.drop();
  }
}

/** Lets every pending setImmediate (commits, gate releases) run. */
export function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
