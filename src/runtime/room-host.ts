import type { WebSocket } from "ws";
import type * as Party from "../types/party.js";
import type { RoomStorage, RoomStorageHooks } from "../storage/contract.js";
import { PartyConnection, type ConnectionHost } from "./connection.js";
import { hibernatingState, inMemoryState, type ConnectionStatePolicy } from "./connection-state.js";
import { closeReason, isValidCloseCode, truncateReason } from "./close-reason.js";
import { ConnectionCloseEvent, ConnectionErrorEvent, ConnectionMessageEvent } from "./events.js";
import { errorResponse } from "./error-response.js";
import { messageBytes, outgoingMessage, serverFrame } from "./frame.js";
import { describeError } from "./logger.js";
import { OutputGate } from "./output-gate.js";
import { RoomMovedError } from "./placement.js";
import type { RoomRef } from "../storage/engine.js";
import type { PartyDefinition } from "./party-definition.js";
import { RoomApi } from "./room-api.js";
import { RoomClosedError } from "./room-closed.js";
import { RoomEvents } from "./room-events.js";
import type { RoomServices } from "./room-services.js";
import { NO_TAGS, SocketRecord, type PendingClose } from "./socket-record.js";
import { SocketTable } from "./socket-table.js";
import type { OutputGated } from "./stubs.js";
import { validateTags } from "./tags.js";
import { whenTurnsSettle, type TurnListener } from "./turn-end.js";
import { isTransient, retryLaterResponse } from "./transient.js";

const WS_OPEN = 1;
/** How long a closing room waits for events it already started (within the CLI's stop bound). */
const SETTLE_ON_SHUTDOWN_MS = 2_000;

/** Completes (or abandons) the WebSocket upgrade once onConnect has run. */
export type AcceptSocket = (record: SocketRecord) => Promise<{ ws: WebSocket } | null>;

/**
 * One room: at most one live server instance, the room's sockets, its storage and its gates.
 * Events (connect, message, close, error, request, alarm) enter through the input gate, wait
 * for onStart, and are dispatched to whichever API the party uses. Handlers interleave only
 * where they await something that is not storage; onStart, blockConcurrencyWhile and storage
 * operations that need the engine hold other events back.
 */
export class RoomHost implements ConnectionHost, RoomStorageHooks, OutputGated {
  readonly sockets = new SocketTable();
  readonly api: RoomApi;
  readonly ref: RoomRef;
  /** Known after the first instance is built; sticky, because sockets were accepted under it. */
  private hibernates: boolean | undefined;
  private storageHandle: RoomStorage | null = null;
  private readonly events: RoomEvents;
  private readonly output = new OutputGate();
  private warnedAboutListeners = false;
  private closed = false;
  /** Set when the instance is dropped by hibernation, so the next start counts as a wake. */
  private wasHibernated = false;
  /** Set once events that were running at shutdown have settled (or ran out of time). */
  private storageClosed = false;
  /** Broadcasts to the whole room not yet written (see broadcast()). */
  private batch: { frames: Buffer[]; pendingCopies: Array<string | Buffer> } | undefined;
  /** Created on the first batched broadcast: most rooms never broadcast. */
  private batchFlusher: TurnListener | undefined;

  constructor(
    readonly id: string,
    readonly services: RoomServices,
  ) {
    this.ref = { party: services.partyName, room: id };
    this.api = new RoomApi(this);
    const placement = services.placement;
    this.events = new RoomEvents(
      () => {
        const instance = this.definition.create(this.api);
        this.hibernates ??= instance.hibernate;
        return instance;
      },
      this.ref,
      (seconds) => {
        this.services.roomStarted(seconds, this.wasHibernated);
        this.wasHibernated = false;
      },
      // No instance is built before this node's claim on the room committed.
      () =>
        placement.acquire(this.ref).then(
          (acquired) => {
            if (acquired.kind === "remote") throw new RoomMovedError(this.ref, acquired);
          },
          // Not live (self-fenced) or the database is unreachable: 503, try again later.
          (error: unknown) => {
            throw new RoomMovedError(this.ref, undefined, errorText(error));
          },
        ),
    );
  }

  get definition(): PartyDefinition {
    return this.services.definition();
  }

  get statePolicy(): ConnectionStatePolicy {
    return this.hibernates ? hibernatingState : inMemoryState;
  }

  /** True while a server instance is in memory (not hibernated). */
  get isResident(): boolean {
    return this.events.isResident;
  }

  get storage(): RoomStorage {
    if (this.storageHandle === null) {
      if (this.storageClosed) throw new Error(`Room ${this.id} is closed`);
      this.storageHandle = this.services.storage.room(this.ref, this);
    }
    return this.storageHandle;
  }

  // ---- RoomStorageHooks: storage closes the input gate while it works ---------------------------

  operationStarted(): void {
    this.events.input.close();
  }

  operationEnded(): void {
    this.events.input.open();
  }

  alarmCommitted(time: number | null): void {
    this.services.alarmChanged(this.ref, time);
  }

  // ---- events -------------------------------------------------------------------------------

  /** HTTP request to the room (already past onBeforeRequest). */
  async request(request: Party.Request): Promise<Response> {
    if (this.closed || this.leaseLapsed()) return closedResponse();
    try {
      const result = await this.events.run((server) => server.onRequest(request), "onRequest");
      if (!(result instanceof Response)) {
        return new Response("Incorrect type for Promise: the Promise did not resolve to 'Response'.", { status: 500 });
      }
      const durable = this.storageHandle?.whenDurable();
      if (durable !== undefined || this.output.isHolding) await this.output.whenPassed(durable);
      return result;
    } catch (error) {
      if (error instanceof RoomMovedError) return error.toResponse();
      if (error instanceof RoomClosedError) return closedResponse();
      this.log("error", "onRequest failed", error);
      return isTransient(error) ? retryLaterResponse() : errorResponse(error);
    }
  }

  /**
   * A WebSocket for this room (already past onBeforeConnect). Tags and onConnect run before the
   * 101 so the client cannot send before onConnect finishes; if either throws, the socket is
   * still upgraded and then closed 1011 with the message, so browsers can see why.
   */
  async connect(request: Party.Request, id: string, accept: AcceptSocket): Promise<void> {
    if (this.leaseLapsed()) throw new RoomMovedError(this.ref, undefined, "this node's lease is not held");
    const record = new SocketRecord(id, request.url, NO_TAGS);
    let failure: unknown;
    try {
      await this.events.run(async (server) => {
        const connection = this.connectionOf(record);
        const ctx: Party.ConnectionContext = { request };
        if (server.has("getConnectionTags")) {
          const tags = await server.getConnectionTags(connection, ctx);
          record.tags = validateTags(id, tags, this.hibernates === true);
        }
        // Broadcasts made before the socket joined do not reach it.
        this.flushBroadcasts();
        this.sockets.add(record);
        if (server.has("onConnect")) await server.onConnect(connection, ctx);
      }, "onConnect");
    } catch (error) {
      this.sockets.delete(record);
      // Not this node's room: the front door answers the upgrade with the owner (503).
      if (error instanceof RoomMovedError) throw error;
      // Unavailable here for now (storage out of reach, fenced): answered like a room that moved,
      // so the edge locates it again and the client gets 503 + Retry-After, not a 1011.
      if (isTransient(error)) throw new RoomMovedError(this.ref, undefined, errorText(error));
      failure = error;
      if (!(error instanceof RoomClosedError)) this.log("error", "onConnect failed", error);
    }
    const accepted = await accept(record);
    if (accepted === null) {
      // The client left before the upgrade completed.
      if (failure === undefined) this.socketClosed(record, 1006, "");
      return;
    }
    const { ws } = accepted;
    // Batched broadcasts still go to the record's pending list, not straight to the new socket.
    this.flushBroadcasts();
    record.ws = ws;
    this.services.counters.connects++;
    if (failure !== undefined) {
      record.closed = true;
      // A room that closed meanwhile says "restart" (1012), so clients reconnect.
      ws.close(failure instanceof RoomClosedError ? 1012 : 1011, closeReason(failure));
      return;
    }
    if (record.closed) {
      ws.terminate();
      return;
    }
    const pending = record.pending;
    record.pending = undefined;
    if (pending) for (const item of pending) this.deliver(record, item);
  }

  /** A frame from a client. Binary frames reach user code as ArrayBuffer, never Buffer. */
  socketMessage(record: SocketRecord, data: string | ArrayBuffer): void {
    // A frame that arrives while the room closes its sockets reaches no user code.
    if (this.closed || this.leaseLapsed()) return;
    this.events.dispatch((server) => {
      const connection = this.connectionOf(record);
      const result = server.has("onMessage") ? server.onMessage(data, connection) : undefined;
      if (connection.hasListeners("message")) {
        const event = new ConnectionMessageEvent(
          typeof data !== "string" && connection.binaryType === "blob" ? new Blob([data]) : data,
        );
        connection.dispatch(event, (error) => this.log("error", "message listener failed", error));
      }
      return result;
    }, this.onMessageFailed, "onMessage");
    // An event that ran right here, inside ws's read of a chunk: its broadcasts are written
    // before ws reads on (a close frame later in the chunk makes ws write its reply at once).
    this.flushBroadcasts();
  }

  /** The socket closed, by either side or by a dropped TCP connection. */
  socketClosed(record: SocketRecord, code: number, reason: string): void {
    // Only sockets that joined the room get onClose (not one whose onConnect threw).
    if (!this.sockets.delete(record)) return;
    record.closed = true;
    if (this.closed || this.leaseLapsed()) return;
    this.events.run((server) => {
      const connection = this.connectionOf(record);
      const result = server.has("onClose") ? server.onClose(connection) : undefined;
      if (connection.hasListeners("close")) {
        connection.dispatch(new ConnectionCloseEvent(code, reason, code !== 1006), (error) =>
          this.log("error", "close listener failed", error),
        );
      }
      return result;
    }, "onClose")
      .catch((error) => this.log("error", "onClose failed", error))
      .finally(() => {
        // The wrapper is no longer reachable through the room; let it go with the record.
        record.connection = undefined;
      });
  }

  /**
   * The client sent a message over 1 MiB; the front door is closing it with 1009. workerd
   * reports this to PartyKit as a transport error: onError with "internal error", and no
   * onClose later. The socket leaves the room now.
   */
  socketMessageTooLarge(record: SocketRecord): void {
    if (!this.sockets.delete(record)) return;
    record.closed = true;
    this.services.logger.log("warn", "closed a socket that sent a message over 1 MiB (1009)", {
      party: this.ref.party,
      room: this.id,
      connection: record.id,
    });
    this.socketError(record, new Error("internal error"));
  }

  socketError(record: SocketRecord, error: Error): void {
    if (this.closed || this.leaseLapsed()) return;
    this.events.dispatch((server) => {
      const connection = this.connectionOf(record);
      const result = server.has("onError") ? server.onError(connection, error) : undefined;
      if (connection.hasListeners("error")) {
        connection.dispatch(new ConnectionErrorEvent(error), (e) => this.log("error", "error listener failed", e));
      }
      return result;
    }, this.onErrorFailed, "onError");
    this.flushBroadcasts();
  }

  private readonly onMessageFailed = (error: unknown): void => this.log("error", "onMessage failed", error);
  private readonly onErrorFailed = (error: unknown): void => this.log("error", "onError failed", error);

  /** The room's alarm came due. Throws when onAlarm throws, so the scheduler can retry. */
  async alarm(time: number): Promise<void> {
    if (this.leaseLapsed()) throw new RoomMovedError(this.ref, undefined, "this node's lease is not held");
    await this.events.run(async (server) => {
      const storage = this.storage;
      storage.beginAlarm(time);
      let succeeded = false;
      try {
        if (server.has("onAlarm")) await server.onAlarm();
        succeeded = true;
      } finally {
        storage.endAlarm(time, succeeded);
      }
    }, "onAlarm");
  }

  // ---- the Party.Room surface (used by RoomApi) ------------------------------------------------

  blockConcurrencyWhile<T>(callback: () => Promise<T>): Promise<T> {
    return this.events.blockConcurrencyWhile(callback);
  }

  /**
   * Frames the message once and writes the same bytes to every open socket not in `without`.
   * Broadcasts to the whole room are batched until the turns of the current burst of events
   * settle (turn-end.ts), then written as one buffer per socket: a burst of N broadcasts costs
   * each socket one queued write instead of N (the per-write bookkeeping of N writes to 10,000
   * corked sockets is what filled V8's young generation). Anything else that writes to or
   * changes the room's sockets flushes the batch first, so every socket sees the same order.
   */
  broadcast(message: string | ArrayBuffer | ArrayBufferView, without?: readonly string[]): void {
    const converted = outgoingMessage(message);
    const { bytes, binary } = messageBytes(converted);
    const frame = serverFrame(bytes, binary);
    const skip = without && without.length > 0 ? new Set(without) : undefined;
    const pendingCopy = typeof converted === "string" ? converted : bytes;
    this.output.pass(this.storageHandle?.whenDurable(), () => {
      if (skip === undefined) return this.batchBroadcast(frame, pendingCopy);
      this.flushBroadcasts();
      this.writeToRoom([frame], [pendingCopy], skip);
    });
  }

  private batchBroadcast(frame: Buffer, pendingCopy: string | Buffer): void {
    const batch = this.batch;
    if (batch !== undefined) {
      batch.frames.push(frame);
      batch.pendingCopies.push(pendingCopy);
      return;
    }
    this.batch = { frames: [frame], pendingCopies: [pendingCopy] };
    whenTurnsSettle((this.batchFlusher ??= { turnEnded: () => this.flushBroadcasts() }));
  }

  /** Writes the batched broadcasts now (before anything else reaches the room's sockets). */
  private flushBroadcasts(): void {
    const batch = this.batch;
    if (batch === undefined) return;
    this.batch = undefined;
    this.writeToRoom(batch.frames, batch.pendingCopies, undefined);
  }

  private writeToRoom(frames: Buffer[], pendingCopies: Array<string | Buffer>, skip: ReadonlySet<string> | undefined): void {
    const joined = frames.length === 1 ? frames[0]! : Buffer.concat(frames);
    const fanout = this.services.fanout;
    let written = 0;
    for (const record of this.sockets) {
      if (record.closed || (skip && skip.has(record.id))) continue;
      if (record.ws === null) (record.pending ??= []).push(...pendingCopies);
      else if (record.ws.readyState === WS_OPEN) {
        fanout.write(record, joined);
        written++;
      }
    }
    // Counted once per flush, not per recipient: the loop above is the hot path.
    const counters = this.services.counters;
    counters.messagesOut += written * frames.length;
    counters.bytesOut += written * joined.length;
  }

  /** A call to another room waits, like a reply, until the writes made before it are durable. */
  outputMayLeave(): Promise<void> | undefined {
    const durable = this.storageHandle?.whenDurable();
    if (durable === undefined && !this.output.isHolding) return undefined;
    return this.output.whenPassed(durable);
  }

  getConnection(id: string): PartyConnection | undefined {
    const record = this.sockets.get(id);
    return record ? this.connectionOf(record) : undefined;
  }

  *getConnections(tag?: string): IterableIterator<PartyConnection> {
    for (const record of this.sockets.select(tag)) {
      if (!record.closed && (record.ws === null || record.ws.readyState === WS_OPEN)) {
        yield this.connectionOf(record);
      }
    }
  }

  // ---- ConnectionHost ---------------------------------------------------------------------------

  send(record: SocketRecord, message: string | ArrayBuffer | ArrayBufferView): void {
    const converted = outgoingMessage(message);
    const payload = typeof converted === "string" ? converted : messageBytes(converted).bytes;
    const durable = this.storageHandle?.whenDurable();
    if (durable === undefined && !this.output.isHolding) this.deliver(record, payload);
    else this.output.pass(durable, () => this.deliver(record, payload));
  }

  close(record: SocketRecord, code?: number, reason?: string): void {
    if (code !== undefined && !isValidCloseCode(code)) {
      throw new TypeError(`invalid close code ${code}: use 1000 or 3000-4999`);
    }
    this.output.pass(this.storageHandle?.whenDurable(), () => {
      this.flushBroadcasts();
      if (record.ws === null) {
        (record.pending ??= []).push({ code, reason });
        return;
      }
      record.ws.close(code, reason === undefined ? undefined : truncateReason(reason));
    });
  }

  listenerAdded(): void {
    if (this.hibernates && !this.warnedAboutListeners) {
      this.warnedAboutListeners = true;
      this.services.logger.log(
        "warn",
        "a hibernating room added a connection listener; it is lost when the room hibernates (use onMessage/onClose instead)",
        { party: this.ref.party, room: this.id },
      );
    }
  }

  // ---- lifecycle ---------------------------------------------------------------------------------

  /** Whether the room has nothing running, waiting or unwritten, and has been idle for `ms`. */
  isIdleFor(ms: number, now: number): boolean {
    return this.events.isIdleFor(ms, now) && this.storageHandle?.whenDurable() === undefined;
  }

  /**
   * Cluster mode: no event reaches user code once this node's lease deadline has passed, even
   * if the timer that fences the node has not run yet (a resumed process handles waiting I/O
   * first). Checking fences the node at once, which drops this room; answers true then.
   */
  private leaseLapsed(): boolean {
    return !this.services.placement.holdsLease();
  }

  /** Whether the room hibernates (known once an instance has been built). */
  get hibernating(): boolean {
    return this.hibernates === true;
  }

  /**
   * Drops the server instance and its connection wrappers while the sockets stay open; the
   * next event builds a new instance and runs onStart again.
   */
  async hibernate(): Promise<void> {
    this.flushBroadcasts();
    this.events.dropInstance();
    this.wasHibernated = true;
    for (const record of this.sockets) {
      record.connection = undefined;
      this.statePolicy.hibernate(record);
    }
    const storage = this.storageHandle;
    this.storageHandle = null;
    await storage?.close();
  }

  /** Closes every socket with `code` and releases the room (server stop, dev reload). */
  async shutdown(code: number, reason: string): Promise<void> {
    this.closed = true;
    // First, so nothing that arrives while the sockets close can rebuild the instance.
    this.events.close(this.id);
    // Broadcasts made before the close go out before the close frames, as they were made first.
    this.flushBroadcasts();
    for (const record of [...this.sockets]) {
      record.closed = true;
      this.sockets.delete(record);
      if (record.ws && record.ws.readyState === WS_OPEN) record.ws.close(code, reason);
      else record.ws?.terminate();
    }
    // Events that had started before the close finish their storage work first (bounded).
    await this.events.settled(SETTLE_ON_SHUTDOWN_MS);
    this.storageClosed = true;
    const storage = this.storageHandle;
    this.storageHandle = null;
    await storage?.close();
  }

  /** Events waiting at the input gate (the front door pauses sockets of a room that is behind). */
  get pendingEvents(): number {
    return this.events.input.waitingCount;
  }

  /** Closing or closed: events are refused, sockets are being closed. */
  get isClosed(): boolean {
    return this.closed;
  }

  // ---- internals ---------------------------------------------------------------------------------

  connectionOf(record: SocketRecord): PartyConnection {
    return (record.connection ??= new PartyConnection(record, this));
  }

  private deliver(record: SocketRecord, item: string | Buffer | PendingClose): void {
    // A send after a broadcast reaches the socket after it.
    this.flushBroadcasts();
    if (record.ws === null) {
      if (!record.closed) (record.pending ??= []).push(item);
      return;
    }
    if (record.ws.readyState !== WS_OPEN) return;
    if (typeof item === "string") {
      this.written(record, serverFrame(Buffer.from(item, "utf8"), false));
    } else if (Buffer.isBuffer(item)) {
      this.written(record, serverFrame(item, true));
    } else {
      record.ws.close(item.code, item.reason === undefined ? undefined : truncateReason(item.reason));
    }
  }

  private written(record: SocketRecord, frame: Buffer): void {
    this.services.fanout.write(record, frame);
    const counters = this.services.counters;
    counters.messagesOut++;
    counters.bytesOut += frame.length;
  }

  /** The room's writes could not be made durable: drop the instance and its sockets (DO semantics). */
  writeFailed(error: Error): void {
    this.flushBroadcasts();
    this.services.logger.log("error", "storage write failed; resetting room", {
      party: this.ref.party,
      room: this.id,
      ...describeError(error),
    });
    this.events.dropInstance();
    // The storage lives and dies with the instance: closed and forgotten by the service, so the
    // next instance opens a fresh one that claims afresh (a kept one would commit at its old
    // epoch, and be refused as fenced after the node re-registered).
    const storage = this.storageHandle;
    this.storageHandle = null;
    void storage?.close().catch(() => undefined);
    // Fenced, or this node's lease ran out: another node may own the room now; 1012 makes
    // clients reconnect (and reach it). Anything else is this room's own failure.
    const transient = isTransient(error);
    for (const record of [...this.sockets]) {
      record.closed = true;
      this.sockets.delete(record);
      if (transient) record.ws?.close(1012, "room moved");
      else record.ws?.close(1011, "storage write failed");
    }
  }

  /**
   * A user handler threw: counted, and logged with its stack unless it is a recent repeat. A
   * transient cluster condition that escaped it (storage out of reach, fenced) is not the
   * handler's error: logged as a warning, not counted.
   */
  private log(_level: "error", event: string, error: unknown): void {
    if (!isTransient(error)) return this.services.errors.report(this.ref, event, error);
    this.services.logger.log("warn", `${event}: room unavailable here for now`, { party: this.ref.party, room: this.id, ...describeError(error) });
  }
}

/** What a request to a closing room gets: come back shortly (to this server's successor). */
function closedResponse(): Response {
  return new Response("Room is closing; retry shortly", { status: 503, headers: { "retry-after": "1" } });
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
