/**
 * The engine of a Yjs room, shared by `YServer` and the y-partykit-style `onConnect`: one per
 * room instance. It speaks the y-websocket protocol to each connection, keeps the document in
 * memory only while it is used, and persists every change in the room's storage before anyone
 * sees it.
 *
 * Lifecycle. The document is loaded lazily, on the first message that needs it (a sync message,
 * a new connection, an HTTP read): awareness traffic (the 15-second renewals every provider
 * sends) is relayed without it, so an idle document's renewals never rebuild it. When the
 * instance hibernates everything here is dropped; what must survive lives in storage (the
 * document) and in connection state (awareness client ids). A fresh instance treats connections
 * it finds as survivors: when it loads the document it sends each of them a sync step 1, so a
 * client holding anything the server lacks sends it back, and the first newcomer makes it ask
 * one survivor for the awareness states it holds. Awareness renewals and newcomers' states are
 * relayed in batches (renewal-batch.ts), and providers' echoes of them are dropped unread.
 *
 * Durability. An update is applied to the document at once; the updates of one event-loop turn
 * are merged, appended to the log (one storage write), and then broadcast. The runtime's output
 * gate holds every message sent after a write until the write is durable, so no client sees an
 * update a crash could lose. Replies that expose document state (a sync step 2) flush first.
 */
import * as decoding from "lib0/decoding";
import * as Y from "yjs";
import type * as Party from "../types/party.js";
import { AwarenessStore, decodeAwarenessUpdate, encodeAwarenessUpdate, type AppliedEntry, type AwarenessEntry } from "./awareness-store.js";
import { ChunkAssembler, isChunkMarker } from "./chunking.js";
import { isSameState, isYConnection, readClocks, updatedClocks, writeClocks } from "./awareness-clocks.js";
import { debounce, type Debounced } from "./debounce.js";
import { RenewalBatch } from "./renewal-batch.js";
import {
  MESSAGE_AWARENESS,
  MESSAGE_QUERY_AWARENESS,
  MESSAGE_SYNC,
  awarenessMessage,
  queryAwarenessMessage,
  readSyncRequest,
  syncStep1Message,
  syncStep2Message,
  updateMessage,
} from "./protocol.js";
import { UpdateLog, type UpdateLogOptions } from "./update-log.js";
import { readYPartyKitUpdates } from "./y-partykit-import.js";

/** Prefix of custom (string) messages, as y-partyserver's provider sends and expects them. */
export const CUSTOM_MESSAGE_PREFIX = "__YPS:";

/** Origin of the transaction that rebuilds the document: not logged, not broadcast. */
const LOAD_ORIGIN = Symbol("partyhouse/yjs load");

export interface YRoomConfig {
  /** Yjs garbage collection of deleted content. */
  gc: boolean;
  /** Persist in room storage (update log + snapshot), or false to keep the document in memory only. */
  persist: false | UpdateLogOptions;
  /** Drop the in-memory document after this long without use, even while the room is awake (0 = never). */
  unloadAfterMs: number;
  /** Awareness renewals (same state, newer clock) and newcomers' states are held this long and relayed together (0 = at once). */
  awarenessBatchMs: number;
  /** Runs after the document was rebuilt from storage; changes it makes are neither logged nor broadcast. */
  onLoad?: (doc: Y.Doc) => void | Promise<void>;
  /** Runs debounced after changes (`wait` ms quiet, at most `maxWait` ms apart). */
  onSave?: { run: (doc: Y.Doc) => void | Promise<void>; wait: number; maxWait: number };
  isReadOnly: (connection: Party.Connection) => boolean;
  onCustomMessage?: (connection: Party.Connection, message: string) => void;
  /** Where errors from clients' malformed messages and failed hooks go. */
  onError: (error: unknown, where: string) => void;
}

export class YRoom {
  private doc: Y.Doc | undefined;
  private loading: Promise<Y.Doc> | undefined;
  private log: UpdateLog | undefined;
  private readonly awareness = new AwarenessStore();
  /** Awareness client id → the connection that controls it. */
  private readonly owners = new Map<number, string>();
  private readonly assemblers = new Map<string, ChunkAssembler>();
  /** Connections found when this instance started (they outlived the previous one). */
  private readonly survivors = new Set<string>();
  private survivorsResynced = false;
  private survivorQueried = false;
  /** Survivors asked to resend the awareness they hold; their answer relays others' states. */
  private readonly queried = new Set<string>();
  /** Connections that joined this instance (the only ones that need relayed foreign states). */
  private readonly fresh = new Set<string>();
  private pending: Uint8Array[] = [];
  /** The connection all pending updates came from, or null when mixed / not from a connection. */
  private pendingOrigin: Party.Connection | null | undefined;
  private flushScheduled = false;
  private unloadTimer: NodeJS.Timeout | undefined;
  private readonly save: Debounced | undefined;
  private readonly renewals: RenewalBatch | undefined;

  constructor(
    readonly room: Party.Room,
    private readonly config: YRoomConfig,
  ) {
    for (const connection of room.getConnections()) {
      if (!isYConnection(connection)) continue;
      this.survivors.add(connection.id);
      for (const [clientId] of readClocks(connection)) this.owners.set(clientId, connection.id);
    }
    if (config.awarenessBatchMs > 0) {
      this.renewals = new RenewalBatch(config.awarenessBatchMs, (entries) => this.room.broadcast(awarenessMessage(encodeAwarenessUpdate(entries))));
    }
    const onSave = config.onSave;
    if (onSave) {
      this.save = debounce(
        () => {
          void this.getDocument()
            .then((doc) => onSave.run(doc))
            .catch((error: unknown) => config.onError(error, "onSave"));
        },
        onSave.wait,
        onSave.maxWait,
      );
    }
  }

  /** The document if it is in memory now. */
  get loadedDocument(): Y.Doc | undefined {
    return this.doc;
  }

  /** The document, loading it from storage if needed; every change made so far is in the log. */
  async getDocument(): Promise<Y.Doc> {
    const doc = this.doc ?? (await (this.loading ??= this.load().finally(() => (this.loading = undefined))));
    this.flush();
    this.touch();
    return doc;
  }

  // ---- connections ------------------------------------------------------------------------------

  async connect(connection: Party.Connection): Promise<void> {
    writeClocks(connection, []);
    this.fresh.add(connection.id);
    const doc = await this.getDocument();
    connection.send(syncStep1Message(doc));
    const states = this.awareness.snapshot();
    if (states) connection.send(awarenessMessage(states));
    this.querySurvivor(connection);
  }

  /** A message from a connection (the whole Party message: text or binary). */
  message(connection: Party.Connection, message: string | ArrayBuffer | ArrayBufferView): Promise<void> | void {
    if (typeof message === "string") return this.text(connection, message);
    const bytes =
      message instanceof ArrayBuffer ? new Uint8Array(message) : new Uint8Array(message.buffer, message.byteOffset, message.byteLength);
    const assembler = this.assemblers.get(connection.id);
    if (assembler?.collecting) {
      assembler.chunk(bytes);
      return;
    }
    return this.binary(connection, bytes);
  }

  /** The connection closed (or failed): its awareness clients leave. */
  close(connection: Party.Connection): void {
    this.assemblers.delete(connection.id);
    this.fresh.delete(connection.id);
    this.survivors.delete(connection.id);
    this.queried.delete(connection.id);
    const clocks = readClocks(connection).filter(([clientId]) => this.owners.get(clientId) === connection.id || !this.owners.has(clientId));
    for (const [clientId] of clocks) {
      this.owners.delete(clientId);
      this.renewals?.drop(clientId);
    }
    const removals = this.awareness.remove(clocks);
    if (removals.length > 0) this.room.broadcast(awarenessMessage(encodeAwarenessUpdate(removals)), [connection.id]);
    if (this.isEmpty()) this.lastLeft();
  }

  sendCustomMessage(connection: Party.Connection, message: string): void {
    connection.send(CUSTOM_MESSAGE_PREFIX + message);
  }

  broadcastCustomMessage(message: string, without?: Party.Connection): void {
    this.room.broadcast(CUSTOM_MESSAGE_PREFIX + message, without ? [without.id] : undefined);
  }

  // ---- incoming messages --------------------------------------------------------------------------

  private text(connection: Party.Connection, message: string): Promise<void> | void {
    if (isChunkMarker(message)) {
      let assembler = this.assemblers.get(connection.id);
      if (!assembler) this.assemblers.set(connection.id, (assembler = new ChunkAssembler()));
      let whole: Uint8Array | undefined;
      try {
        whole = assembler.marker(message);
      } catch (error) {
        this.config.onError(error, "chunked message");
        return;
      }
      return whole ? this.binary(connection, whole) : undefined;
    }
    if (message.startsWith(CUSTOM_MESSAGE_PREFIX)) {
      this.config.onCustomMessage?.(connection, message.slice(CUSTOM_MESSAGE_PREFIX.length));
    }
  }

  private binary(connection: Party.Connection, bytes: Uint8Array): Promise<void> | void {
    try {
      const decoder = decoding.createDecoder(bytes);
      const type = decoding.readVarUint(decoder);
      switch (type) {
        case MESSAGE_SYNC:
          return this.sync(connection, decoder);
        case MESSAGE_AWARENESS:
          return this.awarenessUpdate(connection, decoding.readVarUint8Array(decoder));
        case MESSAGE_QUERY_AWARENESS: {
          const states = this.awareness.snapshot();
          if (states) connection.send(awarenessMessage(states));
          return;
        }
        default:
          return; // auth messages and unknown types: ignored, as y-partykit does
      }
    } catch (error) {
      this.config.onError(error, "message");
    }
  }

  private async sync(connection: Party.Connection, decoder: decoding.Decoder): Promise<void> {
    const request = readSyncRequest(decoder);
    const doc = this.doc ?? (await this.getDocument());
    if (request.kind === "step1") {
      this.flush();
      connection.send(syncStep2Message(doc, request.stateVector));
    } else if (!this.config.isReadOnly(connection)) {
      try {
        Y.applyUpdate(doc, request.update, connection);
      } catch (error) {
        this.config.onError(error, "update");
      }
    }
    this.touch();
  }

  /**
   * Relays awareness without the document. A connection's own clients go to everyone (the
   * sender too: a lone provider reconnects after 30 s without hearing anything); states a
   * queried survivor relays for other connections (its answer to "query awareness") only to
   * connections that joined this instance, since the rest already have them. Outside such an
   * answer a client id moves to the connection that sends it (a provider that reconnected
   * before its old socket closed), so the old socket's close does not remove it.
   *
   * Renewals of a connection's own clients, and the first state of a client new to it, wait in
   * a batch (renewal-batch.ts); the promise of a batch's first entry is returned, so the room
   * stays awake until the batch is relayed.
   */
  private awarenessUpdate(connection: Party.Connection, update: Uint8Array): Promise<void> | void {
    // Most awareness messages are providers' echoes of what was relayed to them: dropped unread.
    if (this.awareness.isStale(update)) return;
    const entries = decodeAwarenessUpdate(update);
    const applied = this.awareness.apply(entries);
    if (applied.length === 0) return;
    const answering = this.queried.has(connection.id);
    const own: AppliedEntry[] = [];
    const foreign: AwarenessEntry[] = [];
    for (const entry of applied) {
      const owner = this.owners.get(entry.clientId);
      if (answering && owner !== undefined && owner !== connection.id) {
        foreign.push(entry);
        continue;
      }
      own.push(entry);
      if (entry.state === "null") this.owners.delete(entry.clientId);
      else this.owners.set(entry.clientId, connection.id);
    }
    let batchRelayed: Promise<void> | undefined;
    if (own.length > 0) {
      const previous = readClocks(connection);
      const clocks = updatedClocks(previous, own);
      if (clocks) writeClocks(connection, clocks);
      const changes: AwarenessEntry[] = [];
      for (const entry of own) {
        // A fresh instance (after hibernation) knows no state: the connection's hash tells it.
        const renewal = entry.renewal || isSameState(previous, entry.clientId, entry.state);
        // A newcomer's state too: relayed at once, every editor's echo of every join was N² messages while N joined.
        const joining = entry.state !== "null" && !previous.some(([clientId]) => clientId === entry.clientId);
        if ((renewal || joining) && this.renewals) batchRelayed = this.renewals.add(entry) ?? batchRelayed;
        else {
          this.renewals?.drop(entry.clientId);
          changes.push(entry);
        }
      }
      if (changes.length > 0) {
        const message = changes.length === entries.length ? awarenessMessage(update) : awarenessMessage(encodeAwarenessUpdate(changes));
        this.room.broadcast(message);
      }
    }
    if (foreign.length > 0) {
      this.queried.delete(connection.id);
      const message = awarenessMessage(encodeAwarenessUpdate(foreign));
      for (const id of this.fresh) if (id !== connection.id) this.room.getConnection(id)?.send(message);
    }
    return batchRelayed;
  }

  /** After a wake, the first newcomer has nobody's awareness: ask one survivor for all it holds. */
  private querySurvivor(newcomer: Party.Connection): void {
    if (this.survivorQueried) return;
    for (const id of this.survivors) {
      const survivor = this.room.getConnection(id);
      if (!survivor || survivor.id === newcomer.id) continue;
      this.survivorQueried = true;
      this.queried.add(survivor.id);
      survivor.send(queryAwarenessMessage());
      return;
    }
  }

  // ---- the document -----------------------------------------------------------------------------

  private async load(): Promise<Y.Doc> {
    const doc = new Y.Doc({ gc: this.config.gc });
    if (this.config.persist !== false) {
      const { updates, log } = await UpdateLog.load(this.room.storage, this.config.persist);
      // A room y-partykit persisted before the move: start from its document, kept as our snapshot.
      const imported = updates.length === 0 ? await readYPartyKitUpdates(this.room.storage, this.room.id) : [];
      doc.transact(() => {
        for (const update of [...updates, ...imported]) Y.applyUpdate(doc, update, LOAD_ORIGIN);
      }, LOAD_ORIGIN);
      this.log = log;
      if (log.wantsCompaction || imported.length > 0) log.compact(Y.encodeStateAsUpdate(doc));
    }
    if (this.config.onLoad) await this.config.onLoad(doc);
    doc.on("update", this.onUpdate);
    this.doc = doc;
    this.resyncSurvivors(doc);
    return doc;
  }

  /** Survivors may hold changes this instance lacks (e.g. with persistence off): ask for them. */
  private resyncSurvivors(doc: Y.Doc): void {
    if (this.survivorsResynced) return;
    this.survivorsResynced = true;
    if (this.survivors.size === 0) return;
    const step1 = syncStep1Message(doc);
    for (const id of this.survivors) this.room.getConnection(id)?.send(step1);
  }

  private readonly onUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === LOAD_ORIGIN) return;
    this.pending.push(update);
    const from = isConnection(origin) ? origin : null;
    this.pendingOrigin = this.pendingOrigin === undefined ? from : this.pendingOrigin === from ? from : null;
    this.save?.();
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  };

  /** Logs and broadcasts the updates of this turn as one merged update. */
  flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const update = this.pending.length === 1 ? this.pending[0]! : Y.mergeUpdates(this.pending);
    const origin = this.pendingOrigin;
    this.pending = [];
    this.pendingOrigin = undefined;
    const log = this.log;
    if (log) {
      log.append(update);
      if (log.wantsCompaction && this.doc) log.compact(Y.encodeStateAsUpdate(this.doc));
    }
    this.room.broadcast(updateMessage(update), origin ? [origin.id] : undefined);
  }

  /** Keeps the document for `unloadAfterMs` more. */
  private touch(): void {
    if (this.config.unloadAfterMs <= 0 || !this.doc) return;
    if (this.unloadTimer) this.unloadTimer.refresh();
    else {
      // Through a WeakRef: a pending timer must not keep a hibernated instance (and its document) alive.
      const self = new WeakRef(this);
      this.unloadTimer = setTimeout(() => self.deref()?.unload(), this.config.unloadAfterMs);
      this.unloadTimer.unref();
    }
  }

  /**
   * Drops the in-memory document; everything in it is already in the log. It writes nothing
   * itself (it may run from a timer after the instance hibernated).
   */
  unload(): void {
    if (this.unloadTimer) clearTimeout(this.unloadTimer);
    this.unloadTimer = undefined;
    const doc = this.doc;
    if (!doc || this.loading || this.pending.length > 0) return;
    // Without persistence the document lives only here while anyone is connected.
    if (this.config.persist === false && !this.isEmpty()) return;
    this.save?.flush();
    doc.off("update", this.onUpdate);
    this.doc = undefined;
    doc.destroy();
  }

  private isEmpty(): boolean {
    for (const _ of this.room.getConnections()) return false;
    return true;
  }

  /** The last connection left: fold the log into the snapshot and let the document go. */
  private lastLeft(): void {
    const doc = this.doc;
    if (!doc || this.config.persist === false) return;
    this.flush();
    if (this.log?.hasLog) this.log.compact(Y.encodeStateAsUpdate(doc));
    this.unload();
  }
}

function isConnection(origin: unknown): origin is Party.Connection {
  return typeof origin === "object" && origin !== null && "id" in origin && "send" in origin;
}
