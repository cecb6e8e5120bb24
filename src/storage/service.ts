/**
 * The group commit: every room that wrote during a turn is committed together, in one engine
 * transaction, on the next setImmediate. One commit is in flight at a time; writes made
 * meanwhile wait for the next one, which starts as soon as the current one ends. On a disk that
 * does 5–8k fsyncs a second this is what lets thousands of rooms write durably at once.
 */
import type { CommitObservation, RoomStorage, RoomStorageHooks, StorageReader, StorageService } from "./contract.js";
import { FencedError, type RoomRef, type StorageEngine } from "./engine.js";
import { DEFAULT_CACHE_BYTES_PER_ROOM } from "./cache.js";
import { roomKey } from "./room-key.js";
import { RoomStorageImpl, type CommitScheduler } from "./room-storage.js";

export interface StorageServiceOptions {
  /** Bound of each room's read cache. Default 4 MiB. */
  cacheBytesPerRoom?: number;
}

/** After a failed commit, how often an engine that can be probed is asked whether it answers again. */
const PROBE_EVERY_MS = 1_000;

export class GroupCommitStorageService implements StorageService, CommitScheduler {
  private readonly rooms = new Map<string, RoomStorageImpl>();
  private readonly dirty = new Set<RoomStorageImpl>();
  /** Rooms whose batches the commit in flight carries. */
  private committingRooms: RoomStorageImpl[] = [];
  private readonly cacheBytesPerRoom: number;
  private flushScheduled = false;
  private committing: Promise<void> | undefined;
  private closed = false;
  /** Why the last commit failed, until one succeeds or the engine answers a probe (readiness). */
  private lastCommitError: string | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private readonly observers = new Set<(commit: CommitObservation) => void>();

  constructor(
    readonly engine: StorageEngine,
    options: StorageServiceOptions = {},
  ) {
    this.cacheBytesPerRoom = options.cacheBytesPerRoom ?? DEFAULT_CACHE_BYTES_PER_ROOM;
  }

  room(ref: RoomRef, hooks: RoomStorageHooks): RoomStorage {
    if (this.closed) throw new Error("storage service is closed");
    const key = roomKey(ref);
    const existing = this.rooms.get(key);
    if (existing !== undefined && !existing.isClosed) {
      existing.hooks = hooks;
      return existing;
    }
    const room = new RoomStorageImpl({ party: ref.party, room: ref.room }, hooks, this, this.cacheBytesPerRoom);
    this.rooms.set(key, room);
    return room;
  }

  /** Rooms whose storage is open (for tests): an instance dropped for any reason closes its own. */
  get openRooms(): number {
    return this.rooms.size;
  }

  listAlarms(): Promise<Array<{ room: RoomRef; time: number }>> {
    return this.engine.listAlarms();
  }

  whenAllDurable(): Promise<void> | undefined {
    let held: Array<Promise<void>> | undefined;
    for (const rooms of [this.committingRooms, this.dirty]) {
      for (const room of rooms) {
        const durable = room.whenDurable();
        if (durable !== undefined) (held ??= []).push(durable);
      }
    }
    return held === undefined ? undefined : Promise.all(held).then(() => undefined);
  }

  get reader(): StorageReader {
    return this.engine;
  }

  ready(): { ok: boolean; reason: string } {
    if (this.closed) return { ok: false, reason: "storage is closed" };
    if (this.lastCommitError !== undefined) return { ok: false, reason: `last storage commit failed: ${this.lastCommitError}` };
    return { ok: true, reason: `storage open (${this.engine.kind})` };
  }

  observeCommits(observer: (commit: CommitObservation) => void): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.probeTimer);
    await this.drain();
    this.rooms.clear();
    await this.engine.close();
  }

  /** Resolves once every write made so far has been committed (or has failed). */
  async drain(): Promise<void> {
    while (this.committing !== undefined || this.dirty.size > 0) await this.startFlush();
  }

  // ---- CommitScheduler ---------------------------------------------------------------------

  markDirty(room: RoomStorageImpl): void {
    this.dirty.add(room);
    // While a commit is in flight, its end schedules the next one.
    if (this.committing === undefined) this.scheduleFlush();
  }

  forget(room: RoomStorageImpl): void {
    this.dirty.delete(room);
  }

  release(room: RoomStorageImpl): void {
    const key = roomKey(room.ref);
    if (this.rooms.get(key) === room) this.rooms.delete(key);
  }

  releaseGate(hooks: RoomStorageHooks): void {
    try {
      hooks.operationEnded();
    } catch {
      // A throwing hook must not break the commit bookkeeping of other rooms.
    }
  }

  private observed(started: number, taken: ReadonlyArray<{ write: { entries: ReadonlyMap<string, unknown> } }>, ok: boolean): void {
    if (this.observers.size === 0) return;
    const commit: CommitObservation = { seconds: (performance.now() - started) / 1000, rooms: taken.length, keys: keysIn(taken), ok };
    for (const observer of this.observers) observer(commit);
  }

  // ---- group commit ------------------------------------------------------------------------

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      void this.startFlush();
    });
  }

  /**
   * Behind a load balancer a node that is not ready gets no traffic, so no commit would ever
   * clear a failed one: an engine that can be probed clears it as soon as it answers again.
   */
  private probeUntilAnswered(): void {
    const engine = this.engine;
    if (engine.probe === undefined || this.probeTimer !== undefined || this.closed) return;
    this.probeTimer = setTimeout(() => {
      void engine.probe!().then(
        () => {
          this.probeTimer = undefined;
          this.lastCommitError = undefined;
        },
        () => {
          this.probeTimer = undefined;
          this.probeUntilAnswered();
        },
      );
    }, PROBE_EVERY_MS);
    this.probeTimer.unref();
  }

  private startFlush(): Promise<void> {
    if (this.committing !== undefined) return this.committing;
    if (this.dirty.size === 0) return Promise.resolve();
    const run = this.flush().finally(() => {
      this.committing = undefined;
      if (this.dirty.size > 0) this.scheduleFlush();
    });
    this.committing = run;
    return run;
  }

  private async flush(): Promise<void> {
    const rooms = [...this.dirty];
    this.dirty.clear();
    this.committingRooms = rooms;
    try {
      await this.commitRooms(rooms);
    } finally {
      this.committingRooms = [];
    }
  }

  private async commitRooms(rooms: RoomStorageImpl[]): Promise<void> {
    const unclaimed = rooms.filter((room) => room.needsClaim);
    if (unclaimed.length > 0) {
      await Promise.all(
        unclaimed.map((room) => room.ensureClaimed().catch((error: unknown) => room.commitFailed(asError(error)))),
      );
    }
    // delete() counts existing keys with a read issued before its tombstone; an engine whose
    // reads and commits race (a networked one) must answer that read before the commit.
    for (;;) {
      const blockers = rooms.flatMap((room) => room.takeBlockers());
      if (blockers.length === 0) break;
      await Promise.allSettled(blockers);
    }
    const taken = rooms.filter((room) => room.hasPendingBatch).map((room) => ({ room, ...room.takeBatch() }));
    if (taken.length === 0) return;
    let fenced: Set<string>;
    const started = this.observers.size > 0 ? performance.now() : 0;
    try {
      const outcome = await this.engine.commit(taken.map((entry) => entry.write));
      fenced = new Set(outcome.fenced.map(roomKey));
      this.lastCommitError = undefined;
    } catch (error) {
      this.lastCommitError = asError(error).message;
      this.probeUntilAnswered();
      this.observed(started, taken, false);
      for (const { room } of taken) room.commitFailed(asError(error));
      return;
    }
    this.observed(started, taken, true);
    // Queue the next commit before settling this one's batches: settling releases output (HTTP
    // responses, messages) that is written on a setImmediate too, and the next commit's sync
    // should not wait behind those writes. The next commit still takes only what was written
    // before its turn comes, as it would have from the `finally` in startFlush.
    if (this.dirty.size > 0) this.scheduleFlush();
    for (const { room, batch } of taken) {
      if (fenced.has(roomKey(room.ref))) room.commitFailed(new FencedError(room.ref));
      else room.commitSucceeded(batch);
    }
  }
}

function keysIn(taken: ReadonlyArray<{ write: { entries: ReadonlyMap<string, unknown> } }>): number {
  let keys = 0;
  for (const { write } of taken) keys += write.entries.size;
  return keys;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
