/**
 * In a worker: the kept-alive HTTP connections its supervisor handed it, and when to give one
 * back. A connection stays with the worker it was handed to, which forwards requests for other
 * workers' rooms (the cluster router). If that worker then blocks (a handler that loops), a
 * request on the connection would wait for it even when it is for a healthy worker's room.
 * So a connection idle for PARK_AFTER_MS is parked with the supervisor, which never runs user
 * code: it reads the next request line and routes it as a new connection's. What is left waiting
 * behind a worker that blocks is what it was busy with, and what was idle on it for less than
 * PARK_AFTER_MS when it blocked.
 *
 * The supervisor keeps its own copy of each connection's socket (paused: it reads nothing while
 * a worker reads it), so parking passes no socket: the worker stops reading its copy and tells
 * the supervisor, which reads the next request line from its own. If that request is for this
 * worker (a client polling its room), the worker gets the bytes and reads on (`resume`): two
 * small messages, no new connection. Otherwise the supervisor hands its copy to the room's owner
 * and this worker closes its copy (`drop`). A worker that drains gives its idle connections back
 * for good (`released`).
 *
 * It parks only a connection with nothing in flight, nothing left to write, and whose socket has
 * read exactly the bytes of the requests done (`bytesRead` against each request's size,
 * requestSize in server/accept-connection.ts): so nothing of a next request, pipelined or
 * begun since, is in this worker's parser, and no request is split between two readers. A
 * request whose size cannot be known (a chunked body) keeps the connection here for good.
 */
import type { Socket } from "node:net";
import type { ConnectionObserver } from "../server/accept-connection.js";

/** How long a kept-alive connection stays idle on a worker before it goes back to the supervisor. */
export const PARK_AFTER_MS = 50;

/** The supervisor's side, as the worker tells it. */
export interface ConnectionOwner {
  /**
   * Idle with nothing read: the supervisor reads its next request line and routes it. This
   * worker keeps its copy, paused, to be resumed if the request is for it; `released`: it closed
   * its copy (it is draining), so the connection goes to whichever worker the request is for.
   */
  parked(id: number, released: boolean): void;
  /** This worker is done with it (it closed, or became a WebSocket): the supervisor closes its copy. */
  letGo(id: number): void;
  /** A resume came for a connection this worker no longer holds: its bytes go back, to be routed again. */
  bounced(id: number, head: Buffer): void;
}

class HandedInConnection implements ConnectionObserver {
  /** Requests not yet answered and read whole. */
  private inFlight = 0;
  /** When the last request was done with nothing else in flight; undefined while busy or before the first. */
  private idleSince: number | undefined;
  /**
   * What this socket must have read for its parser to hold nothing: the sizes of the requests
   * begun so far, less the bytes the supervisor read and handed in with the socket.
   */
  private accountedBytes: number;
  /** A request of unknown size came (a chunked body): the count is lost, and so is parking. */
  private uncounted = false;
  /** Paused: the supervisor reads its next request line. */
  parked = false;

  constructor(
    readonly id: number,
    readonly socket: Socket,
    private readonly table: IdleConnections,
    handedInBytes: number,
  ) {
    this.accountedBytes = -handedInBytes;
  }

  requestStarted(size: number | undefined): void {
    if (size === undefined) this.uncounted = true;
    else this.accountedBytes += size;
    this.inFlight++;
    this.idleSince = undefined;
  }

  requestEnded(): void {
    if (--this.inFlight > 0) return;
    this.idleSince = performance.now();
    this.table.becameIdle();
  }

  upgraded(): void {
    this.table.letGo(this);
  }

  isIdle(): boolean {
    return this.idleSince !== undefined && !this.uncounted && !this.parked;
  }

  /** Stops reading (the HTTP server reads a socket only while it flows): the supervisor reads next. */
  park(): void {
    this.parked = true;
    this.socket.pause();
  }

  /** The supervisor read the next request line for this worker: those bytes first, then read on. */
  resume(head: Buffer): void {
    this.parked = false;
    this.accountedBytes -= head.length;
    this.idleSince = performance.now();
    this.socket.unshift(head);
    this.socket.resume();
  }

  /**
   * Idle long enough, and exactly the bytes of the requests done read: nothing of a next
   * request (pipelined, or begun since) is in the parser. Nothing buffered or left to write.
   */
  mayPark(now: number, afterMs: number): boolean {
    const socket = this.socket;
    return (
      this.isIdle() &&
      now - this.idleSince! >= afterMs &&
      !socket.destroyed &&
      socket.bytesRead === this.accountedBytes &&
      socket.readableLength === 0 &&
      socket.writableLength === 0
    );
  }
}

export class IdleConnections {
  private readonly open = new Map<number, HandedInConnection>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(
    private readonly owner: ConnectionOwner,
    private readonly parkAfterMs = PARK_AFTER_MS,
  ) {}

  /** A connection handed in under `id`, with the bytes read from it before (put back): the observer to give the server for it. */
  watch(id: number, socket: Socket, handedInBytes: number): ConnectionObserver {
    const connection = new HandedInConnection(id, socket, this, handedInBytes);
    this.open.set(id, connection);
    socket.once("close", () => this.letGo(connection));
    return connection;
  }

  /** The supervisor read the next request of parked connection `id`, for this worker. */
  resume(id: number, head: Buffer): void {
    const connection = this.open.get(id);
    if (connection === undefined || !connection.parked || connection.socket.destroyed) return this.owner.bounced(id, head);
    connection.resume(head);
  }

  /** The supervisor gave parked connection `id` to another worker: close this copy, quietly. */
  drop(id: number): void {
    const connection = this.open.get(id);
    if (connection === undefined) return;
    this.open.delete(connection.id);
    connection.socket.destroy();
  }

  /**
   * Gives every parked or idle connection back for good (a worker about to drain): their next
   * requests go to whichever worker owns their rooms then.
   */
  releaseIdle(): void {
    const now = performance.now();
    for (const connection of this.open.values()) {
      if (!connection.parked && !connection.mayPark(now, 0)) continue;
      this.open.delete(connection.id);
      this.owner.parked(connection.id, true);
      connection.socket.destroy();
    }
  }

  becameIdle(): void {
    if (this.sweeper !== undefined) return;
    this.sweeper = setInterval(() => this.sweep(this.parkAfterMs), Math.max(1, this.parkAfterMs / 2));
    this.sweeper.unref();
  }

  letGo(connection: HandedInConnection): void {
    if (this.open.get(connection.id) !== connection) return;
    this.open.delete(connection.id);
    this.owner.letGo(connection.id);
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private sweep(afterMs: number): void {
    const now = performance.now();
    let waiting = 0;
    for (const connection of this.open.values()) {
      if (connection.mayPark(now, afterMs)) this.park(connection);
      else if (connection.isIdle()) waiting++;
    }
    // Nothing idle left to watch: the timer comes back with the next idle connection.
    if (waiting === 0) this.close();
  }

  private park(connection: HandedInConnection): void {
    connection.park();
    this.owner.parked(connection.id, false);
  }
}
