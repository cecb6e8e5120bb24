/**
 * Placement inside a worker of `partyhouse start --workers N`: the RoomDirectory the cluster
 * router asks where a room lives, and the RoomOwnership the runtime claims through before it
 * builds an instance, both answered by the supervisor over IPC (its table is assignments.ts).
 *
 * No leases: the supervisor is the parent of every worker and knows for certain when one has
 * exited, so a room is never held by a worker that is gone, and one that is alive holds its
 * rooms until it releases them. `holdsLease` is therefore always true.
 */
import type { LocateOptions, RoomDirectory, RoomLocation } from "../cluster/directory.js";
import { RoomMovedError, type Acquired, type RoomOwnership } from "../runtime/ownership.js";
import type { RoomRef } from "../storage/engine.js";
import { roomKey } from "../storage/room-key.js";
import type { Placement, SupervisorMessage, WorkerMessage } from "./protocol.js";

/** The IPC side of a worker process (`process` in a forked child). */
export interface SupervisorChannel {
  send(message: WorkerMessage): void;
}

/** The node id the cluster router and logs use for a worker. */
export function workerNodeId(worker: number): string {
  return `worker-${worker}`;
}

export class SupervisorDirectory implements RoomDirectory, RoomOwnership {
  readonly nodeId: string;
  /** Asked often and answered from a queue the supervisor fills: the poll is only a hand-over. */
  readonly alarmPollMs = 100;
  private readonly owned = new Map<string, number>();
  private readonly routes = new Map<string, Extract<RoomLocation, { kind: "remote" }>>();
  private readonly waiting = new Map<number, (placement: Placement | null) => void>();
  private dueAlarmsQueue: Array<{ room: RoomRef; time: number }> = [];
  private nextId = 1;

  constructor(
    readonly worker: number,
    readonly secret: string,
    private readonly channel: SupervisorChannel,
  ) {
    this.nodeId = workerNodeId(worker);
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
      case "worker-gone":
        for (const [key, route] of this.routes) if (route.nodeId === workerNodeId(message.worker)) this.routes.delete(key);
        return;
      case "alarm":
        this.dueAlarmsQueue.push({ room: { party: message.party, room: message.room }, time: message.time });
        return;
      case "connection":
        return;
    }
  }

  // ---- RoomDirectory (the router) -----------------------------------------------------------

  async locate(party: string, room: string, options: LocateOptions = {}): Promise<RoomLocation> {
    const key = roomKey({ party, room });
    const epoch = this.owned.get(key);
    if (epoch !== undefined) return { kind: "local", epoch };
    const route = this.routes.get(key);
    if (route !== undefined) return route;
    return this.ask(party, room, options.claimHere === true);
  }

  invalidate(party: string, room: string): void {
    this.routes.delete(roomKey({ party, room }));
  }

  async release(party: string, room: string): Promise<void> {
    this.owned.delete(roomKey({ party, room }));
    this.channel.send({ type: "release", party, room });
  }

  onLost(): void {
    // Nothing is taken from a live worker: its rooms move only when it releases them or exits.
  }

  /** This worker stops taking rooms (it is being replaced, or the machine stops). */
  async drain(): Promise<void> {
    this.channel.send({ type: "draining" });
  }

  // ---- RoomOwnership (the runtime) ----------------------------------------------------------

  async acquire(ref: RoomRef): Promise<Acquired> {
    const epoch = this.owned.get(roomKey(ref));
    if (epoch !== undefined) return { kind: "local", epoch };
    return this.ask(ref.party, ref.room, true);
  }

  releaseRoom(ref: RoomRef): Promise<void> {
    return this.release(ref.party, ref.room);
  }

  async dueAlarms(): Promise<Array<{ room: RoomRef; time: number }>> {
    const due = this.dueAlarmsQueue;
    this.dueAlarmsQueue = [];
    return due;
  }

  holdsLease(): boolean {
    return true;
  }

  /** One round trip to the supervisor: the room's owner, claimed for this worker if `claim` and nobody holds it. */
  private ask(party: string, room: string, claim: boolean): Promise<RoomLocation> {
    const id = this.nextId++;
    return new Promise<RoomLocation>((resolve, reject) => {
      this.waiting.set(id, (placement) => {
        if (placement === null) reject(new RoomMovedError({ party, room }, undefined, "no worker can take rooms right now"));
        else resolve(this.remember(party, room, placement));
      });
      this.channel.send({ type: "locate", id, party, room, claim });
    });
  }

  private remember(party: string, room: string, placement: Placement): RoomLocation {
    const key = roomKey({ party, room });
    if (placement.worker === this.worker) {
      this.owned.set(key, placement.epoch);
      return { kind: "local", epoch: placement.epoch };
    }
    const route = { kind: "remote", nodeId: workerNodeId(placement.worker), address: placement.address } as const;
    this.routes.set(key, route);
    return route;
  }
}
