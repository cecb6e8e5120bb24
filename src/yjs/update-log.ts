/**
 * A document's persistence in room storage: a snapshot (the whole state as one update) plus a
 * log of the updates since, each split into values under the storage value limit.
 *
 *   yjs:snap:<part>        the snapshot, in parts of 100,000 bytes
 *   yjs:log:<seq>:<part>   one log entry per append (the updates of one turn, merged)
 *
 * Every method writes synchronously (un-awaited puts), so the writes of one call land in the
 * same storage commit: a compaction replaces snapshot and log atomically, and anything sent
 * after an append waits in the output gate until the append is durable.
 */
import type * as Party from "../types/party.js";

const SNAP = "yjs:snap:";
const LOG = "yjs:log:";
/** Under the 131,072-byte storage value limit, with room for the serialization header. */
export const PART_BYTES = 100_000;
/** Storage accepts at most 128 keys per put/delete call. */
const BATCH = 128;

export interface UpdateLogOptions {
  /**
   * Compact the log into a new snapshot once it holds more than this many bytes and is larger
   * than the snapshot (so rewriting the snapshot costs at most about as much as was appended).
   * Default 1 MiB.
   */
  compactAfterBytes?: number;
}

export interface LoadedLog {
  /** The snapshot (if any) then each log entry, in order: apply them all. */
  updates: Uint8Array[];
  log: UpdateLog;
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

function split(bytes: Uint8Array): Uint8Array[] {
  if (bytes.byteLength <= PART_BYTES) return [bytes];
  const parts: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.byteLength; offset += PART_BYTES) parts.push(bytes.subarray(offset, offset + PART_BYTES));
  return parts;
}

function join(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const whole = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0));
  let offset = 0;
  for (const part of parts) {
    whole.set(part, offset);
    offset += part.byteLength;
  }
  return whole;
}

function putAll(storage: Party.Storage, entries: Array<[string, Uint8Array]>): void {
  for (let i = 0; i < entries.length; i += BATCH) {
    // Not awaited: durability is the output gate's business; a failure resets the room.
    void storage.put(Object.fromEntries(entries.slice(i, i + BATCH))).catch(() => {});
  }
}

function deleteAll(storage: Party.Storage, keys: string[]): void {
  for (let i = 0; i < keys.length; i += BATCH) void storage.delete(keys.slice(i, i + BATCH)).catch(() => {});
}

export class UpdateLog {
  private readonly compactAfterBytes: number;

  private constructor(
    private readonly storage: Party.Storage,
    options: UpdateLogOptions,
    private snapshotParts: number,
    private snapshotBytes: number,
    private logKeys: string[],
    private logBytes: number,
    private nextSeq: number,
  ) {
    this.compactAfterBytes = options.compactAfterBytes ?? 1024 * 1024;
  }

  /** Reads snapshot and log (one `list`, which holds the room's other events while it reads). */
  static async load(storage: Party.Storage, options: UpdateLogOptions = {}): Promise<LoadedLog> {
    const [snapshot, log] = await Promise.all([
      storage.list<Uint8Array>({ prefix: SNAP }),
      storage.list<Uint8Array>({ prefix: LOG }),
    ]);
    const updates: Uint8Array[] = [];
    const snapshotParts = [...snapshot.values()];
    const snapshotBytes = snapshotParts.reduce((sum, part) => sum + part.byteLength, 0);
    if (snapshotParts.length > 0) updates.push(join(snapshotParts));
    // Keys sort by sequence number then part: collect the parts of each entry.
    let entry: Uint8Array[] = [];
    let entrySeq: string | undefined;
    let logBytes = 0;
    let lastSeq = -1;
    for (const [key, part] of log) {
      const seq = key.slice(LOG.length, key.lastIndexOf(":"));
      if (seq !== entrySeq && entry.length > 0) updates.push(join(entry)), (entry = []);
      entrySeq = seq;
      entry.push(part);
      logBytes += part.byteLength;
      lastSeq = Number(seq);
    }
    if (entry.length > 0) updates.push(join(entry));
    const instance = new UpdateLog(storage, options, snapshotParts.length, snapshotBytes, [...log.keys()], logBytes, lastSeq + 1);
    return { updates, log: instance };
  }

  /** Appends one update (written now, durable with the next commit). */
  append(update: Uint8Array): void {
    const seq = pad(this.nextSeq++, 12);
    const entries = split(update).map((part, i): [string, Uint8Array] => [`${LOG}${seq}:${pad(i, 4)}`, part]);
    putAll(this.storage, entries);
    for (const [key] of entries) this.logKeys.push(key);
    this.logBytes += update.byteLength;
  }

  /** Whether the log has grown enough that `compact` should run. */
  get wantsCompaction(): boolean {
    return this.logBytes > Math.max(this.compactAfterBytes, this.snapshotBytes);
  }

  /** Whether there is any log to fold into the snapshot. */
  get hasLog(): boolean {
    return this.logKeys.length > 0;
  }

  get bytes(): { snapshot: number; log: number } {
    return { snapshot: this.snapshotBytes, log: this.logBytes };
  }

  /** Replaces snapshot and log with `state` (the whole document as an update), atomically. */
  compact(state: Uint8Array): void {
    const parts = split(state);
    const stale: string[] = [...this.logKeys];
    for (let i = parts.length; i < this.snapshotParts; i++) stale.push(`${SNAP}${pad(i, 6)}`);
    deleteAll(this.storage, stale);
    putAll(
      this.storage,
      parts.map((part, i): [string, Uint8Array] => [`${SNAP}${pad(i, 6)}`, part]),
    );
    this.snapshotParts = parts.length;
    this.snapshotBytes = state.byteLength;
    this.logKeys = [];
    this.logBytes = 0;
  }
}
