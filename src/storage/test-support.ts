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

export type EngineKind = "memory" | "sqlite";
export const ENGINE_KINDS: readonly EngineKind[] = ["memory", "sqlite"];

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
  constructor(readonly inner: StorageEngine) {}
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

/** A service over a real engine of the given kind, reopenable on the same folder. */
export class Harness {
  readonly dir: string | undefined;
  engine!: CountingEngine;
  service!: GroupCommitStorageService;

  constructor(
    readonly kind: EngineKind,
    private readonly options: StorageServiceOptions = {},
  ) {
    this.dir = kind === "sqlite" ? makeTempDir() : undefined;
    this.open();
  }

  private open(): void {
    const inner = this.kind === "sqlite" ? SqliteEngine.open({ dir: this.dir!, durability: "normal" }) : new MemoryEngine();
    this.engine = new CountingEngine(inner);
    this.service = new GroupCommitStorageService(this.engine, this.options);
  }

  room(name = "room", hooks: RoomStorageHooks = new RecordingHooks(), party = "main"): RoomStorage {
    return this.service.room({ party, room: name }, hooks);
  }

  /** Closes and reopens the same folder (sqlite only): what a restart sees. */
  async reopen(): Promise<void> {
    await this.service.close();
    this.open();
  }

  /** After sync(): on sqlite, reopen and return a cold room with the same name; else undefined. */
  async reopenIfDurable(name = "room"): Promise<RoomStorage | undefined> {
    if (this.kind !== "sqlite") return undefined;
    await this.reopen();
    return this.room(name);
  }

  async dispose(): Promise<void> {
    await this.service.close();
    if (this.dir) removeDir(this.dir);
  }
}

/** Lets every pending setImmediate (commits, gate releases) run. */
export function nextMacrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
