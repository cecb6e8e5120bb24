/**
 * Placement inside a worker of `partyhouse start --workers N`: the one Placement the router and
 * the runtime ask (src/runtime/placement.ts), answered by the supervisor over IPC (its table is
 * assignments.ts).
 *
 * No leases: the supervisor is the parent of every worker and knows for certain when one has
 * exited, so a room is never held by a worker that is gone, and one that is alive holds its
 * rooms until it releases them. `holdsLease` is therefore always true, and nothing is ever lost.
 */
import { RoomMovedError, type AlarmSource, type LocateOptions, type Placement, type RoomLocation } from "../runtime/placement.js";
import type { RoomRef } from "../storage/engine.js";
import { roomKey } from "../storage/room-key.js";
import type { Placement as Placed, SupervisorMessage, WorkerMessage } from "./protocol.js";

/** The IPC side of a worker process (`process` in a forked child). */
export interface SupervisorChannel {
  send(message: WorkerMessage): void;
}

/** The node id the cluster router and logs use for a worker. */
export function workerNodeId(worker: number): string {
  return `worker-${worker}`;
}

/** How often the runtime takes the due alarms the supervisor sent (a hand-over from a queue). */
const ALARM_TAKE_MS = 100;

export class SupervisorPlacement implements Placement {
  readonly nodeId: string;
  readonly alarms: AlarmSource;
  private readonly owned = new Map<string, number>();
  private readonly routes = new Map<string, Extract<RoomLocation, { kind: "remote" }>>();
  /** Rooms being released here: a claim or locate of them waits until the supervisor was told. */
  private readonly releasing = new Map<string, Promise<void>>();
  private readonly waiting = new Map<number, (placement: Placed | null) => void>();
  private readonly acknowledging = new Map<number, () => void>();
  private dueAlarmsQueue: Array<{ room: RoomRef; time: number }> = [];
  private nextId = 1;

  constructor(
    readonly worker: number,
    readonly secret: string,
    private readonly channel: SupervisorChannel,
  ) {
    this.nodeId = workerNodeId(worker);
    this.alarms = { kind: "poll", everyMs: ALARM_TAKE_MS, due: async () => this.takeDueAlarms() };
  }

  /** Messages from the supervisor that concern placement. */
  receive(message: SupervisorMessage): void {
    switch (message.type) {
      case "placed": {
        const resolve = this.waiting.get(message.id);
        this.waiting.delete(message.id);
        resolve?.(message.placement);
        return;
      }
      case "done": {
        const resolve = this.acknowledging.get(message.id);
        this.acknowledging.delete(message.id);
        resolve?.();
        return;
      }
      case "worker-gone":
        for (const [key, route] of this.routes) if (route.nodeId === workerNodeId(message.worker)) this.routes.delete(key);
        return;
      case "alarm":
        this.dueAlarmsQueue.push({ room: { party: message.party, room: message.room }, time: message.time });
        return;
      case "connection":
      case "resume":
      case "drop":
        return;
    }
  }

  async locate(room: RoomRef, options: LocateOptions = {}): Promise<RoomLocation> {
    const key = roomKey(room);
    await this.releasing.get(key);
    const epoch = this.owned.get(key);
    if (epoch !== undefined) return { kind: "local", epoch };
    const route = this.routes.get(key);
    if (route !== undefined) return route;
    return this.ask(room, options.claimHere === true);
  }

  async acquire(room: RoomRef): Promise<RoomLocation> {
    const key = roomKey(room);
    await this.releasing.get(key);
    const epoch = this.owned.get(key);
    if (epoch !== undefined) return { kind: "local", epoch };
    return this.ask(room, true);
  }

  invalidate(room: RoomRef): void {
    this.routes.delete(roomKey(room));
  }

  release(room: RoomRef, closed: Promise<void>): Promise<void> {
    const key = roomKey(room);
    // A room not held here (say, handed here and never claimed) is not this worker's to give up.
    if (!this.owned.has(key)) return closed.catch(() => undefined);
    const released = closed
      .catch(() => undefined)
      .then(() => {
        // Not held here any more: the table is told, and a claim here waits until it knows.
        this.owned.delete(key);
        return this.acknowledged((id) => ({ type: "release", id, party: room.party, room: room.room }));
      })
      .finally(() => {
        if (this.releasing.get(key) === released) this.releasing.delete(key);
      });
    this.releasing.set(key, released);
    return released;
  }

  /** The room goes to worker `to` after `drop`; nobody's if `to` is not a worker that may take rooms. */
  handOff(room: RoomRef, to: string, drop: () => Promise<void>): Promise<void> {
    const key = roomKey(room);
    if (!this.owned.has(key)) return Promise.resolve();
    const target = /^worker-(\d+)$/.exec(to);
    const handed = drop()
      .catch(() => undefined)
      .then(() => {
        this.owned.delete(key);
        return this.acknowledged((id) =>
          target === null
            ? { type: "release", id, party: room.party, room: room.room }
            : { type: "hand-off", id, party: room.party, room: room.room, to: Number(target[1]) },
        );
      })
      .finally(() => {
        if (this.releasing.get(key) === handed) this.releasing.delete(key);
      });
    this.releasing.set(key, handed);
    return handed;
  }

  /** This worker stops taking rooms (it is being replaced, or the machine stops). */
  async drain(): Promise<void> {
    this.channel.send({ type: "draining" });
  }

  onLost(): void {
    // Nothing is taken from a live worker: its rooms move only when it releases them or exits.
  }

  holdsLease(): boolean {
    return true;
  }

  /** Sends a message that the supervisor answers with `done`, and waits for that answer. */
  private acknowledged(message: (id: number) => WorkerMessage): Promise<void> {
    const id = this.nextId++;
    return new Promise<void>((resolve) => {
      this.acknowledging.set(id, resolve);
      this.channel.send(message(id));
    });
  }

  private takeDueAlarms(): Array<{ room: RoomRef; time: number }> {
    const due = this.dueAlarmsQueue;
    this.dueAlarmsQueue = [];
    return due;
  }

  /** One round trip to the supervisor: the room's owner, claimed for this worker if `claim` and nobody holds it. */
  private ask(room: RoomRef, claim: boolean): Promise<RoomLocation> {
    const id = this.nextId++;
    return new Promise<RoomLocation>((resolve, reject) => {
      this.waiting.set(id, (placement) => {
        if (placement === null) reject(new RoomMovedError(room, undefined, "no worker can take rooms right now"));
        else resolve(this.remember(room, placement));
      });
      this.channel.send({ type: "locate", id, party: room.party, room: room.room, claim });
    });
  }

  private remember(room: RoomRef, placement: Placed): RoomLocation {
    const key = roomKey(room);
    if (placement.worker === this.worker) {
      this.owned.set(key, placement.epoch);
      return { kind: "local", epoch: placement.epoch };
    }
    const route = { kind: "remote", nodeId: workerNodeId(placement.worker), address: placement.address } as const;
    this.routes.set(key, route);
    return route;
  }
}
