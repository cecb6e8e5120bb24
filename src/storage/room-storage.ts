/**
 * One room's storage with Durable Object semantics on top of a StorageEngine.
 *
 * Reads look, in order, at the overlay (writes not durable yet), then the read cache (durable
 * values), then the engine. A write lands in the overlay and the room's pending batch at once,
 * so it is visible to the next read even when not awaited, and its promise is settled then (as
 * workerd's storage cache does); the service commits every dirty room's batch together on the
 * next setImmediate (group commit), and the output gate holds whatever the room sends until that
 * commit is durable. See README.md for the gate guarantees.
 */
import type { RoomStorage, RoomStorageHooks } from "./contract.js";
import type { FenceToken, ListQuery, RoomRef, RoomWrite, StorageEngine } from "./engine.js";
import { FencedError } from "./engine.js";
import type {
  StorageGetAlarmOptions,
  StorageGetOptions,
  StorageListOptions,
  StoragePutOptions,
  StorageSetAlarmOptions,
  StorageTransaction,
} from "../types/party.js";
import { ValueCache } from "./cache.js";
import { compareKeys, normalizeKey } from "./keys.js";
import { listQueryFromOptions, toAlarmTime, validKey, validKeys } from "./validate.js";
import { toKeyRange } from "./key-range.js";
import { checkBatchSize, checkKeySize, checkListLimit } from "./limits.js";
import { mergeSorted, writesInRange } from "./sorted-merge.js";
import { RoomTransaction, type TransactionHost } from "./transaction.js";
import { encodeValue, StoredValue } from "./values.js";
import { WriteBatch } from "./write-batch.js";

/** What a room needs from the service that commits for it. */
export interface CommitScheduler {
  readonly engine: StorageEngine;
  /** The room has a pending batch: commit it soon. */
  markDirty(room: RoomStorageImpl): void;
  /** The room's pending batch is gone (failed): do not commit it. */
  forget(room: RoomStorageImpl): void;
  /** The room was closed. */
  release(room: RoomStorageImpl): void;
  /**
   * Reopens an input gate, right when the operation settled. The runtime starts waiting events
   * from a setImmediate, so the code awaiting the operation continues before any new event.
   */
  releaseGate(hooks: RoomStorageHooks): void;
}

interface OverlayEntry {
  readonly value: StoredValue | null;
  /** The batch that wrote it: the entry leaves the overlay when that batch is durable. */
  readonly batch: number;
}

/** Options that say how a call interacts with the gates. */
interface GateOptions {
  allowConcurrency?: boolean;
  allowUnconfirmed?: boolean;
  noCache?: boolean;
}

type ValueMap = Map<string, StoredValue | null>;

/**
 * How much a room may write before its commit without waiting for it (workerd's cache applies
 * the same kind of back-pressure): past either bound, a write's promise settles only once the
 * write is durable, and the input gate stays closed until then.
 */
export const UNFLUSHED_LIMITS = { keys: 4096, bytes: 8 * 1024 * 1024 };

const DONE: Promise<void> = Promise.resolve();

export class RoomStorageImpl implements RoomStorage, TransactionHost {
  private readonly overlay = new Map<string, OverlayEntry>();
  private readonly cache: ValueCache;
  private pending: WriteBatch | undefined;
  private inFlight: WriteBatch | undefined;
  private nextBatchId = 1;
  /** Batch id of a deleteAll that is not durable yet (0: none). Until it is, the engine's
   *  contents are stale: every key outside the overlay reads as absent. */
  private unconfirmedDeleteAll = 0;
  /** Bumped whenever durable state changes under the cache; a read that started before a bump
   *  must not fill the cache with what it saw. */
  private readEpoch = 0;
  /** Durable alarm; undefined until loaded. */
  private storedAlarm: number | null | undefined = undefined;
  private overlayAlarm: { readonly time: number | null; readonly batch: number } | undefined;
  /** The alarm whose onAlarm is running, and whether the handler set a new one. */
  private firingAlarm: { readonly time: number; replaced: boolean } | undefined;
  private transactionTail: Promise<unknown> = Promise.resolve();
  private fence: FenceToken | undefined;
  private claiming: Promise<FenceToken> | undefined;
  private closed = false;

  constructor(
    readonly ref: RoomRef,
    public hooks: RoomStorageHooks,
    private readonly scheduler: CommitScheduler,
    cacheBytes: number,
  ) {
    this.cache = new ValueCache(cacheBytes);
    void this.ensureClaimed().catch(() => {
      // Reported when the room first commits.
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Bytes held by the read cache (for tests and metrics). */
  get cachedBytes(): number {
    return this.cache.bytes;
  }

  // ---- reads -------------------------------------------------------------------------------

  get<T = unknown>(key: string, options?: StorageGetOptions): Promise<T | undefined>;
  get<T = unknown>(keys: string[], options?: StorageGetOptions): Promise<Map<string, T>>;
  get(keyOrKeys: string | string[], options?: StorageGetOptions): Promise<unknown> {
    try {
      if (Array.isArray(keyOrKeys)) return this.getMany(keyOrKeys, options);
      const key = normalizeKey(keyOrKeys);
      checkKeySize(key);
      const local = this.lookupLocal(key);
      if (local !== undefined) return Promise.resolve(local === null ? undefined : local.read());
      return this.gated(options, () =>
        this.fetch([key], options).then((found) => found.get(key)?.read()),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  private getMany(keys: string[], options: StorageGetOptions | undefined): Promise<Map<string, unknown>> {
    const normalized = validKeys(keys);
    const pendingRead = this.readValues(normalized, options);
    if (pendingRead instanceof Map) return Promise.resolve(toResultMap(pendingRead));
    return this.gated(options, () => pendingRead.then(toResultMap));
  }

  /** Current values of keys from memory, or a promise when some need the engine. */
  readValues(keys: readonly string[], options?: GateOptions): ValueMap | Promise<ValueMap> {
    const values: ValueMap = new Map();
    const missing: string[] = [];
    for (const key of keys) {
      const local = this.lookupLocal(key);
      if (local === undefined) missing.push(key);
      else values.set(key, local);
    }
    if (missing.length === 0) return values;
    return this.fetch(missing, options).then((fetched) => {
      for (const [key, value] of fetched) values.set(key, value);
      return values;
    });
  }

  list<T = unknown>(options: StorageListOptions = {}): Promise<Map<string, T>> {
    try {
      checkListLimit(options.limit);
      const entries = this.listValues(listQueryFromOptions(options), options);
      const toMap = (list: Array<[string, StoredValue]>) => {
        const result = new Map<string, T>();
        for (const [key, value] of list) result.set(key, value.read() as T);
        return result;
      };
      if (Array.isArray(entries)) return Promise.resolve(toMap(entries));
      return this.gated(options, () => entries.then(toMap));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Entries in list order, from memory when the engine need not be asked. */
  listValues(
    query: ListQuery,
    options?: GateOptions,
  ): Array<[string, StoredValue]> | Promise<Array<[string, StoredValue]>> {
    const range = toKeyRange(query);
    if (range === null) return [];
    const reverse = query.reverse === true;
    const limit = query.limit ?? Infinity;
    const above = writesInRange(overlayValues(this.overlay), range, reverse);
    if (this.unconfirmedDeleteAll !== 0) return mergeSorted([], above, reverse, limit);
    const epoch = this.readEpoch;
    const engineQuery: ListQuery = { ...query, limit: query.limit === undefined ? undefined : limit + above.length };
    return this.scheduler.engine.list(this.ref, engineQuery).then((rows) => {
      const fill = epoch === this.readEpoch && options?.noCache !== true;
      const below = rows.map(([key, bytes]): [string, StoredValue] => {
        if (!fill || this.overlay.has(key)) return [key, StoredValue.fromBytes(bytes)];
        // A cached entry holds these very bytes (the cache is never stale) and maybe a decoded
        // snapshot: keep it rather than replace it.
        const cached = this.cache.get(key);
        if (cached) return [key, cached];
        const value = StoredValue.fromBytes(bytes);
        this.cache.set(key, value);
        return [key, value];
      });
      return mergeSorted(below, above, reverse, limit);
    });
  }

  // ---- writes ------------------------------------------------------------------------------

  put<T>(key: string, value: T, options?: StoragePutOptions): Promise<void>;
  put<T>(entries: Record<string, T>, options?: StoragePutOptions): Promise<void>;
  put(keyOrEntries: string | Record<string, unknown>, valueOrOptions?: unknown, options?: StoragePutOptions): Promise<void> {
    try {
      if (typeof keyOrEntries === "object" && keyOrEntries !== null) {
        return this.write(encodeEntries(keyOrEntries), valueOrOptions as StoragePutOptions | undefined);
      }
      if (valueOrOptions === undefined) throw new TypeError("put() called with undefined value.");
      const key = normalizeKey(keyOrEntries);
      checkKeySize(key);
      return this.write([[key, encodeValue(valueOrOptions)]], options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  delete(key: string, options?: StoragePutOptions): Promise<boolean>;
  delete(keys: string[], options?: StoragePutOptions): Promise<number>;
  delete(keyOrKeys: string | string[], options?: StoragePutOptions): Promise<boolean | number> {
    try {
      const many = Array.isArray(keyOrKeys);
      const keys = many ? unique(validKeys(keyOrKeys)) : [validKey(keyOrKeys)];
      // Whether keys existed is decided by the state before the delete.
      const before = this.readValues(keys, { noCache: true });
      const written = this.write(
        keys.map((key): [string, null] => [key, null]),
        options,
      );
      const count = (values: ValueMap) => {
        let existing = 0;
        for (const value of values.values()) if (value !== null) existing++;
        return many ? existing : existing > 0;
      };
      let result: Promise<boolean | number>;
      if (before instanceof Map) result = written.then(() => count(before));
      else {
        // The count needs the engine: a storage operation, so the input gate closes until it is
        // known; the commit carrying the tombstones waits for the read too.
        this.pending?.blockers.push(before);
        result = this.gated(options, () => Promise.all([before, written]).then(([values]) => count(values)));
      }
      // Like put(): a delete nobody awaits must not crash the process when its commit fails.
      result.catch(() => {});
      return result;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  deleteAll(options?: StoragePutOptions): Promise<void> {
    const batch = this.batchForWrite(options);
    batch.deleteAll = true;
    batch.entries.clear();
    batch.noCacheKeys = undefined;
    this.overlay.clear();
    this.cache.clear();
    this.readEpoch++;
    this.unconfirmedDeleteAll = batch.id;
    return this.acknowledge(batch, options);
  }

  /** Applies already validated writes as one step of the pending batch. */
  private write(entries: ReadonlyArray<readonly [string, StoredValue | null]>, options?: GateOptions): Promise<void> {
    const batch = this.batchForWrite(options);
    for (const [key, value] of entries) {
      batch.entries.set(key, value);
      this.overlay.set(key, { value, batch: batch.id });
      if (options?.noCache) (batch.noCacheKeys ??= new Set()).add(key);
      else batch.noCacheKeys?.delete(key);
      batch.bytes += key.length + (value === null ? 0 : value.bytes.length);
    }
    return this.acknowledge(batch, options);
  }

  /**
   * A write is complete once it is in memory: every later read sees it, and the output gate
   * holds what the room sends after it until it is durable. Only a room with too much unflushed
   * data waits for the commit (holding the input gate, as any storage operation in progress).
   */
  private acknowledge(batch: WriteBatch, options: GateOptions | undefined): Promise<void> {
    if (batch.entries.size <= UNFLUSHED_LIMITS.keys && batch.bytes <= UNFLUSHED_LIMITS.bytes) return DONE;
    return this.gated(options, () => batch.durable);
  }

  private batchForWrite(options: GateOptions | undefined): WriteBatch {
    this.assertOpen();
    let batch = this.pending;
    if (batch === undefined) {
      batch = new WriteBatch(this.nextBatchId++);
      this.pending = batch;
      this.scheduler.markDirty(this);
    }
    // Writes apply to memory at once (as on Durable Objects): another event may read them
    // before they are durable, but its output waits for them.
    if (options?.allowUnconfirmed !== true) batch.gatesOutput = true;
    return batch;
  }

  // ---- transactions ------------------------------------------------------------------------

  transaction<T>(closure: (txn: StorageTransaction) => Promise<T>): Promise<T> {
    // One transaction at a time per room, so each sees the last one's writes (serializable).
    const run = () => this.gated(undefined, () => this.runTransaction(closure));
    const result = this.transactionTail.then(run, run);
    this.transactionTail = result.catch(() => {});
    return result;
  }

  private async runTransaction<T>(closure: (txn: StorageTransaction) => Promise<T>): Promise<T> {
    const txn = new RoomTransaction(this);
    const result = await closure(txn);
    if (!txn.rolledBack) await this.commitTransaction(txn.writes, txn.alarm);
    return result;
  }

  commitTransaction(entries: ReadonlyMap<string, StoredValue | null>, alarm: number | null | undefined): Promise<void> {
    if (entries.size === 0 && alarm === undefined) return Promise.resolve();
    const written = this.write([...entries]);
    if (alarm !== undefined) this.writeAlarm(alarm, undefined);
    return written;
  }

  // ---- alarms ------------------------------------------------------------------------------

  getAlarm(options?: StorageGetAlarmOptions): Promise<number | null> {
    const known = this.knownAlarm();
    if (known !== undefined) return Promise.resolve(known);
    return this.gated(options, () => this.readAlarm());
  }

  /** The alarm as user code sees it, loading it from the engine if needed. */
  readAlarm(): Promise<number | null> {
    const known = this.knownAlarm();
    if (known !== undefined) return Promise.resolve(known);
    const epoch = this.readEpoch;
    return this.scheduler.engine.getAlarm(this.ref).then((time) => {
      if (epoch === this.readEpoch && this.storedAlarm === undefined) this.storedAlarm = time;
      return this.knownAlarm() ?? time;
    });
  }

  private knownAlarm(): number | null | undefined {
    if (this.firingAlarm !== undefined && !this.firingAlarm.replaced) return null;
    if (this.overlayAlarm !== undefined) return this.overlayAlarm.time;
    return this.storedAlarm;
  }

  setAlarm(scheduledTime: number | Date, options?: StorageSetAlarmOptions): Promise<void> {
    try {
      return this.writeAlarm(toAlarmTime(scheduledTime), options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  deleteAlarm(options?: StorageSetAlarmOptions): Promise<void> {
    return this.writeAlarm(null, options);
  }

  private writeAlarm(time: number | null, options: GateOptions | undefined): Promise<void> {
    const batch = this.batchForWrite(options);
    batch.alarm = time;
    this.overlayAlarm = { time, batch: batch.id };
    if (time !== null && this.firingAlarm !== undefined) this.firingAlarm.replaced = true;
    return this.acknowledge(batch, options);
  }

  beginAlarm(time: number): void {
    // The scheduler fires what storage holds, so an alarm not loaded yet is this one.
    if (this.storedAlarm === undefined && this.overlayAlarm === undefined) this.storedAlarm = time;
    this.firingAlarm = { time, replaced: false };
  }

  endAlarm(time: number, succeeded: boolean): void {
    const firing = this.firingAlarm;
    this.firingAlarm = undefined;
    if (!succeeded || firing?.replaced === true || this.closed) return;
    const current = this.overlayAlarm !== undefined ? this.overlayAlarm.time : this.storedAlarm;
    // Bookkeeping, not user output: it holds neither gate.
    if (current === time) this.writeAlarm(null, { allowConcurrency: true, allowUnconfirmed: true });
  }

  // ---- durability --------------------------------------------------------------------------

  sync(): Promise<void> {
    return (this.pending ?? this.inFlight)?.durable ?? Promise.resolve();
  }

  whenDurable(): Promise<void> | undefined {
    if (this.pending?.gatesOutput) return this.pending.durable;
    if (this.inFlight?.gatesOutput) return this.inFlight.durable;
    return undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await (this.pending ?? this.inFlight)?.durable.catch(() => {});
    this.scheduler.release(this);
    this.cache.clear();
  }

  // ---- called by the service ---------------------------------------------------------------

  get hasPendingBatch(): boolean {
    return this.pending !== undefined;
  }

  get needsClaim(): boolean {
    return this.fence === undefined;
  }

  ensureClaimed(): Promise<FenceToken> {
    if (this.fence !== undefined) return Promise.resolve(this.fence);
    this.claiming ??= this.scheduler.engine.claim(this.ref).then(
      (fence) => {
        this.claiming = undefined;
        this.fence = fence;
        return fence;
      },
      (error: unknown) => {
        this.claiming = undefined;
        throw error;
      },
    );
    return this.claiming;
  }

  /** Reads the pending batch waits for before it may be committed; hands them over once. */
  takeBlockers(): Array<Promise<unknown>> {
    const batch = this.pending;
    if (batch === undefined || batch.blockers.length === 0) return [];
    const blockers = batch.blockers;
    batch.blockers = [];
    return blockers;
  }

  /** Moves the pending batch in flight and describes it for the engine. */
  takeBatch(): { batch: WriteBatch; write: RoomWrite } {
    const batch = this.pending!;
    this.pending = undefined;
    this.inFlight = batch;
    const entries = new Map<string, Uint8Array | null>();
    for (const [key, value] of batch.entries) entries.set(key, value === null ? null : value.bytes);
    const write: RoomWrite = {
      room: this.ref,
      fence: this.fence!,
      deleteAll: batch.deleteAll,
      entries,
      alarm: batch.alarm,
    };
    return { batch, write };
  }

  commitSucceeded(batch: WriteBatch): void {
    if (this.inFlight === batch) this.inFlight = undefined;
    this.readEpoch++;
    if (batch.deleteAll) this.cache.clear();
    if (this.unconfirmedDeleteAll === batch.id) this.unconfirmedDeleteAll = 0;
    // A later deleteAll will remove these keys: caching them would outlive it.
    const cacheable = this.unconfirmedDeleteAll === 0;
    for (const [key, value] of batch.entries) {
      if (this.overlay.get(key)?.batch === batch.id) this.overlay.delete(key);
      if (cacheable && batch.noCacheKeys?.has(key) !== true) this.cache.set(key, value);
      else this.cache.delete(key);
    }
    if (batch.alarm !== undefined) {
      this.storedAlarm = batch.alarm;
      if (this.overlayAlarm?.batch === batch.id) this.overlayAlarm = undefined;
    }
    batch.settle();
    if (batch.alarm !== undefined) callHook(() => this.hooks.alarmCommitted(batch.alarm!));
  }

  /** The in-flight (or unclaimed pending) batch failed: every write not durable is lost. */
  commitFailed(error: Error): void {
    const lost = [this.inFlight, this.pending].filter((batch): batch is WriteBatch => batch !== undefined);
    this.inFlight = undefined;
    this.pending = undefined;
    this.scheduler.forget(this);
    this.overlay.clear();
    this.cache.clear();
    this.readEpoch++;
    this.unconfirmedDeleteAll = 0;
    this.overlayAlarm = undefined;
    this.storedAlarm = undefined;
    // Fenced: another owner took the room; claim it again before any later commit.
    if (error instanceof FencedError) this.fence = undefined;
    for (const batch of lost) batch.settle(error);
    callHook(() => this.hooks.writeFailed(error));
  }

  // ---- helpers -----------------------------------------------------------------------------

  /** The value from memory: null if known absent, undefined if the engine must be asked. */
  private lookupLocal(key: string): StoredValue | null | undefined {
    if (this.overlay.size !== 0) {
      const entry = this.overlay.get(key);
      if (entry !== undefined) return entry.value;
    }
    if (this.unconfirmedDeleteAll !== 0) return null;
    return this.cache.get(key);
  }

  /** Reads keys that are in neither the overlay nor the cache. */
  private fetch(keys: readonly string[], options: GateOptions | undefined): Promise<ValueMap> {
    const epoch = this.readEpoch;
    return this.scheduler.engine.get(this.ref, keys).then((found) => {
      const fill = epoch === this.readEpoch && options?.noCache !== true;
      const values: ValueMap = new Map();
      for (const key of keys) {
        const bytes = found.get(key);
        const value = bytes === undefined ? null : StoredValue.fromBytes(bytes);
        values.set(key, value);
        if (fill && !this.overlay.has(key)) this.cache.set(key, value);
      }
      return values;
    });
  }

  /** Runs an operation that cannot finish synchronously behind the input gate. */
  private gated<T>(options: GateOptions | undefined, start: () => Promise<T>): Promise<T> {
    if (options?.allowConcurrency === true) return start();
    const hooks = this.hooks;
    hooks.operationStarted();
    let running: Promise<T>;
    try {
      running = start();
    } catch (error) {
      this.scheduler.releaseGate(hooks);
      return Promise.reject(error);
    }
    // then() rather than finally(): finally costs two extra promise hops per read.
    return running.then(
      (value) => {
        this.scheduler.releaseGate(hooks);
        return value;
      },
      (error: unknown) => {
        this.scheduler.releaseGate(hooks);
        throw error;
      },
    );
  }

  private assertOpen(): void {
    if (this.closed) throw new Error(`storage of room ${this.ref.party}/${this.ref.room} is closed`);
  }
}

function unique(keys: string[]): string[] {
  return keys.length < 2 ? keys : [...new Set(keys)];
}

/** Validates and serializes every entry before any is applied: a failed put writes nothing. */
function encodeEntries(entries: Record<string, unknown>): Array<[string, StoredValue]> {
  const keys = Object.keys(entries);
  checkBatchSize(keys.length);
  return keys.map((key) => [validKey(key), encodeValue(entries[key])]);
}

/** get(keys) answers with the keys that exist, in key order. */
function toResultMap(values: ValueMap): Map<string, unknown> {
  const keys = [...values.keys()].filter((key) => values.get(key) !== null).sort(compareKeys);
  const result = new Map<string, unknown>();
  for (const key of keys) result.set(key, values.get(key)!.read());
  return result;
}

function* overlayValues(overlay: Map<string, OverlayEntry>): Iterable<[string, StoredValue | null]> {
  for (const [key, entry] of overlay) yield [key, entry.value];
}

/** A throwing hook must not break the commit bookkeeping of other rooms. */
function callHook(hook: () => void): void {
  try {
    hook();
  } catch {
    // The runtime owns its hooks' errors; storage state is already consistent.
  }
}
