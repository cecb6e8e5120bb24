/**
 * The worker processes of `partyhouse start --workers N`: started, watched and restarted by the
 * supervisor. A worker that exits for any reason (a crash, SIGKILL, the watchdog ending it for
 * an event past --max-event-ms) loses its rooms at once (Assignments.clear) and is started again;
 * one whose heartbeat stops is stuck and gets no new rooms or room-less connections until it
 * beats again. Placement questions from workers are answered here from the assignments table.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Socket } from "node:net";
import { describeError, type Logger } from "../runtime/logger.js";
import type { RoomRef } from "../storage/engine.js";
import type { Assignments } from "./assignments.js";
import type { WorkerStates } from "./admin-gateway.js";
import { answerPlacement } from "./placement-answers.js";
import {
  HEARTBEAT_MS,
  STUCK_AFTER_MS,
  WORKER_ADMIN_ENV,
  WORKER_BUNDLE_ENV,
  WORKER_DATA_ENV,
  WORKER_INDEX_ENV,
  WORKER_SECRET_ENV,
  type SupervisorMessage,
  type WorkerMessage,
} from "./protocol.js";

const BIN = fileURLToPath(new URL("../../bin/partyhouse.js", import.meta.url));
/** A worker that exits sooner than this after it started is started again only after a pause. */
const CRASH_LOOP_MS = 1_000;

export interface WorkerPoolOptions {
  readonly count: number;
  /** The command line of `partyhouse start` (workers run the same one). */
  readonly argv: readonly string[];
  readonly cwd: string;
  readonly secret: string;
  bundleFile: string;
  /** The SQLite folder the workers share. */
  readonly dataFolder: string;
  readonly assignments: Assignments;
  readonly logger: Logger;
  /** Workers run an admin listener on loopback for the supervisor's (admin-gateway.ts). */
  readonly admin: boolean;
  /** A worker parked an idle connection: read and route its next request (deliverParked). */
  readonly parked: (connection: ParkedConnection) => void;
  /** A worker gave back the bytes of a resume it could not take: route the connection by them. */
  readonly bounced: (socket: Socket, head: Buffer) => void;
}

/** A connection a worker parked: the supervisor's copy, and where it is parked. */
export interface ParkedConnection {
  readonly worker: number;
  readonly id: number;
  readonly socket: Socket;
}

class WorkerSlot {
  child: ChildProcess | undefined;
  address: string | undefined;
  /** Its admin listener's URL (when the supervisor serves one). */
  admin: string | undefined;
  ready = false;
  stuck = false;
  draining = false;
  /** Being replaced (a reload): takes no new rooms, and is not started again when it exits. */
  outgoing = false;
  lastBeat = 0;
  startedAt = 0;
  /** Resolved when this incarnation exits. */
  exited: Promise<void> = Promise.resolve();
  /**
   * The supervisor's copies of the connections handed to it, by id, each paused (read only by the
   * worker). One stays open until the worker lets it go (closed, or a WebSocket now) or parks it
   * (idle: the supervisor routes its next request, src/workers/idle-connections.ts). If the worker
   * exits, these are closed, and their clients see the connection end: without that, a handle
   * written to a child that dies before it reads it would stay open in Node's pending send, and
   * the client would hang.
   */
  readonly copies = new Map<number, Socket>();
  /** Parked connections the supervisor is routing now, by id; `released` once the worker's copy is closed. */
  readonly parked = new Map<number, { released: boolean }>();
  lastId = 0;

  constructor(readonly index: number) {}

  /** The worker no longer holds connection `id`: a copy being routed here lives on (released), any other is closed. */
  lostCopy(id: number): void {
    const parked = this.parked.get(id);
    if (parked !== undefined) {
      parked.released = true;
      return;
    }
    this.copies.get(id)?.destroy();
    this.copies.delete(id);
  }
}

export class WorkerPool implements WorkerStates {
  /** Workers started again after they exited (for /metrics). */
  restarts = 0;
  private readonly slots: WorkerSlot[];
  private readonly watch: NodeJS.Timeout;
  private stopping = false;
  private nextNonRoom = 0;
  private readyWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];
  /** Until every worker was ready once: a worker that exits then fails the start instead of looping. */
  private starting = true;

  constructor(private readonly options: WorkerPoolOptions) {
    this.slots = Array.from({ length: options.count }, (_, index) => new WorkerSlot(index));
    for (const slot of this.slots) this.start(slot);
    this.watch = setInterval(() => this.checkHeartbeats(), HEARTBEAT_MS);
    this.watch.unref();
  }

  /**
   * Resolves once every worker is ready (or the pool stops); rejects if a worker exits before the
   * first time they all were (user code that throws at load, say): its log says why.
   */
  allReady(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.allAreReady()) {
        this.starting = false;
        return resolve();
      }
      this.readyWaiters.push({ resolve, reject });
    });
  }

  admins(): Array<{ readonly worker: number; readonly url: string }> {
    return this.slots.flatMap((slot) => (slot.ready && slot.admin !== undefined && slot.child !== undefined ? [{ worker: slot.index, url: slot.admin }] : []));
  }

  counts(): { readonly ready: number; readonly stuck: number; readonly starting: number } {
    // Replaced workers that exited are not counted; one that crashed and is coming back is starting.
    const current = this.slots.filter((slot) => !slot.outgoing);
    return {
      ready: current.filter((slot) => this.options.assignments.isEligible(slot.index)).length,
      stuck: current.filter((slot) => slot.ready && slot.stuck).length,
      starting: current.filter((slot) => !slot.ready).length,
    };
  }

  ownerOf(ref: RoomRef): number | undefined {
    return this.options.assignments.ownerOf(ref)?.worker;
  }

  /** Whether the worker is draining (SIGTERMed in a reload): its rooms are on their way out. */
  isDraining(index: number): boolean {
    return this.slots[index]?.draining === true;
  }

  /**
   * A reload (SIGHUP): every worker is replaced, one at a time, by one running `bundleFile`.
   * The successor starts first and takes new rooms once ready; then the old worker drains as on
   * SIGTERM (requests in flight answered, its rooms handed back one by one, their WebSockets
   * closed once with 1012 so partysocket reconnects) and exits.
   */
  async replaceAll(bundleFile: string): Promise<void> {
    this.options.bundleFile = bundleFile;
    const outgoing = this.slots.filter((slot) => slot.child !== undefined && !slot.outgoing);
    for (const [i, old] of outgoing.entries()) {
      if (this.stopping) return;
      const successor = new WorkerSlot(this.options.assignments.addWorker());
      this.slots.push(successor);
      this.start(successor);
      while (!successor.ready && !this.stopping) await new Promise((resolve) => setTimeout(resolve, 20));
      if (i === 0) {
        // From now on new rooms go to new workers only, so a room handed back by one old worker
        // never lands on another that is still to be replaced (its sockets close once, not twice).
        for (const slot of outgoing) {
          slot.outgoing = true;
          this.options.assignments.setEligible(slot.index, false);
        }
      }
      old.draining = true;
      old.child?.kill("SIGTERM");
      await old.exited;
    }
  }

  private allAreReady(): boolean {
    return this.slots.every((slot) => slot.ready || slot.outgoing);
  }

  /** Hands a client connection to worker `index`, with the bytes read from it. False if it cannot take it. */
  handOff(index: number, socket: Socket, head: Buffer): boolean {
    const child = this.slots[index]?.child;
    if (child === undefined || !child.connected) return false;
    const slot = this.slots[index]!;
    const id = ++slot.lastId;
    const message: SupervisorMessage = { type: "connection", id, head: head.toString("latin1") };
    slot.copies.set(id, socket);
    child.send(message, socket, { keepOpen: true }, (error) => {
      if (error === null) return;
      slot.copies.delete(id);
      socket.destroy();
    });
    return true;
  }

  /**
   * The next request of a parked connection goes to worker `to`: resumed where it is parked if
   * that is `to` and it still holds its copy (two small messages, no socket passed), else the
   * supervisor's copy is handed to `to` and the parking worker drops its own. False if `to`
   * cannot take it.
   */
  deliverParked(connection: ParkedConnection, to: number, head: Buffer): boolean {
    const from = this.slots[connection.worker]!;
    const parked = from.parked.get(connection.id);
    const child = from.child;
    if (to === connection.worker && parked !== undefined && !parked.released && child?.connected === true) {
      from.parked.delete(connection.id);
      this.send(child, { type: "resume", id: connection.id, head: head.toString("latin1") });
      return true;
    }
    this.forgetParked(connection);
    return this.handOff(to, connection.socket, head);
  }

  /** Forgets a parked connection the supervisor ends (its client left, or it stayed idle too long); the parking worker drops its copy. */
  forgetParked(connection: ParkedConnection): void {
    const from = this.slots[connection.worker]!;
    const parked = from.parked.get(connection.id);
    from.parked.delete(connection.id);
    from.copies.delete(connection.id);
    if (parked !== undefined && !parked.released && from.child !== undefined) this.send(from.child, { type: "drop", id: connection.id });
  }

  /** A ready worker that is neither stuck nor draining, in turn; undefined if none. */
  anyHealthy(): number | undefined {
    for (let i = 0; i < this.slots.length; i++) {
      const index = (this.nextNonRoom + i) % this.slots.length;
      if (this.options.assignments.isEligible(index)) {
        this.nextNonRoom = index + 1;
        return index;
      }
    }
    return undefined;
  }

  /** SIGTERM to every worker (each drains as a single-process server does); resolves when all exited. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.watch);
    for (const waiter of this.readyWaiters.splice(0)) waiter.resolve();
    for (const slot of this.slots) slot.child?.kill("SIGTERM");
    await Promise.all(this.slots.map((slot) => slot.exited));
  }

  private start(slot: WorkerSlot): void {
    const child = spawn(process.execPath, [...process.execArgv, BIN, ...this.options.argv], {
      cwd: this.options.cwd,
      // Its own process group: a terminal's Ctrl-C reaches the workers only through here.
      detached: true,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      env: {
        ...process.env,
        [WORKER_INDEX_ENV]: String(slot.index),
        [WORKER_SECRET_ENV]: this.options.secret,
        [WORKER_BUNDLE_ENV]: this.options.bundleFile,
        [WORKER_DATA_ENV]: this.options.dataFolder,
        ...(this.options.admin ? { [WORKER_ADMIN_ENV]: "1" } : {}),
      },
    });
    slot.child = child;
    slot.ready = false;
    slot.stuck = false;
    slot.draining = false;
    slot.startedAt = Date.now();
    slot.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    child.on("message", (message: WorkerMessage) => this.onMessage(slot, child, message));
    child.on("error", (error) => this.options.logger.log("error", "worker process error", { worker: slot.index, ...describeError(error) }));
    child.once("exit", (code, signal) => this.onExit(slot, child, code, signal));
  }

  private onMessage(slot: WorkerSlot, child: ChildProcess, message: WorkerMessage): void {
    if (slot.child !== child) return;
    const assignments = this.options.assignments;
    switch (message.type) {
      case "ready":
        slot.address = message.address;
        slot.admin = message.admin;
        slot.ready = true;
        slot.lastBeat = Date.now();
        assignments.setEligible(slot.index, true);
        if (this.allAreReady()) {
          this.starting = false;
          for (const waiter of this.readyWaiters.splice(0)) waiter.resolve();
        }
        return;
      case "beat":
        slot.lastBeat = Date.now();
        if (slot.stuck) {
          slot.stuck = false;
          assignments.setEligible(slot.index, slot.ready && !slot.draining && !slot.outgoing);
          this.options.logger.log("info", "worker turning again", { worker: slot.index });
        }
        return;
      case "let-go":
        // One being routed here had its worker's copy closed (its keep-alive time ran out): ours goes on.
        for (const id of message.ids) slot.lostCopy(id);
        return;
      case "parked": {
        const socket = slot.copies.get(message.id);
        if (socket === undefined) return;
        const parked = slot.parked.get(message.id);
        if (parked !== undefined) {
          parked.released ||= message.released;
          return;
        }
        slot.parked.set(message.id, { released: message.released });
        const connection = { worker: slot.index, id: message.id, socket };
        // Stopping: no worker will take it; ending it now is the keep-alive timeout come early.
        if (this.stopping) {
          this.forgetParked(connection);
          socket.destroy();
        } else this.options.parked(connection);
        return;
      }
      case "bounced": {
        const socket = slot.copies.get(message.id);
        if (socket === undefined) return;
        slot.copies.delete(message.id);
        slot.parked.delete(message.id);
        this.options.bounced(socket, Buffer.from(message.head, "latin1"));
        return;
      }
      case "locate":
      case "release":
      case "hand-off": {
        const answer = answerPlacement(assignments, slot.index, message, (worker) => this.slots[worker]?.address);
        if (answer !== undefined) this.send(child, answer);
        return;
      }
      case "draining":
        slot.draining = true;
        assignments.setEligible(slot.index, false);
        return;
    }
  }

  private onExit(slot: WorkerSlot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.child !== child) return;
    slot.child = undefined;
    slot.ready = false;
    // A parked connection being routed here was idle: it lives on, for a live worker.
    for (const id of [...slot.copies.keys()]) slot.lostCopy(id);
    // The supervisor is its parent: it is gone for certain, so its rooms are nobody's now.
    this.options.assignments.clear(slot.index);
    for (const other of this.slots) {
      if (other.child !== undefined) this.send(other.child, { type: "worker-gone", worker: slot.index });
    }
    if (this.stopping) return;
    if (this.starting) {
      const reason = new Error(`worker ${slot.index} exited before it was ready (${signal ?? `exit code ${code}`}); its log above says why`);
      for (const waiter of this.readyWaiters.splice(0)) waiter.reject(reason);
      return;
    }
    if (slot.outgoing) {
      this.options.logger.log("info", "worker replaced", { worker: slot.index, code, signal });
      return;
    }
    this.options.logger.log("error", "worker exited; starting it again", { worker: slot.index, code, signal });
    this.restarts++;
    const delay = Date.now() - slot.startedAt < CRASH_LOOP_MS ? CRASH_LOOP_MS : 0;
    setTimeout(() => {
      if (!this.stopping) this.start(slot);
    }, delay).unref();
  }

  /** Workers whose heartbeat stopped get no new rooms or room-less connections until it resumes. */
  private checkHeartbeats(): void {
    const now = Date.now();
    for (const slot of this.slots) {
      if (!slot.ready || slot.stuck || now - slot.lastBeat <= STUCK_AFTER_MS) continue;
      slot.stuck = true;
      this.options.assignments.setEligible(slot.index, false);
      this.options.logger.log("warn", "worker stopped turning its event loop; no new rooms go to it", { worker: slot.index, sinceMs: now - slot.lastBeat });
    }
  }

  private send(child: ChildProcess, message: SupervisorMessage): void {
    if (!child.connected) return;
    child.send(message, (error: Error | null) => {
      if (error) this.options.logger.log("debug", "message to a worker failed", describeError(error));
    });
  }

  /** Sends an alarm to the worker that owns (or is now given) the room. */
  sendAlarm(ref: RoomRef, time: number): void {
    const owner = this.options.assignments.locate(ref);
    const child = owner === undefined ? undefined : this.slots[owner.worker]!.child;
    if (child !== undefined) this.send(child, { type: "alarm", party: ref.party, room: ref.room, time });
  }
}
