/**
 * The supervisor's table of which worker owns which room. The supervisor is every worker's
 * parent, so it knows for certain when one exited: its rooms are cleared at once and can be
 * placed again, with no lease to wait for. New rooms go to the eligible worker (ready, not
 * stuck, not draining) that has the fewest.
 *
 * Two kinds of entry. A room a worker asked about (`locate`) is **held**: it is that worker's
 * until the worker releases it or exits. A room the supervisor only routed a connection for is
 * **tentative**: later connections for it go to the same worker, and it counts toward that
 * worker's load (so a burst of new rooms spreads), but it lapses after TENTATIVE_MS unless the
 * worker asks for it, so a request that never reaches a room (a 404, a hook that answered)
 * leaves nothing behind.
 */
import { roomKey } from "../storage/room-key.js";
import type { RoomRef } from "../storage/engine.js";

export const TENTATIVE_MS = 10_000;

export interface Owner {
  readonly worker: number;
  readonly epoch: number;
}

interface Entry extends Owner {
  /** When a tentative entry lapses; undefined once held. */
  lapsesAt: number | undefined;
}

export class Assignments {
  private readonly owners = new Map<string, Entry>();
  /** Per worker: the keys of its rooms, held or tentative. */
  private readonly rooms: Array<Set<string>>;
  private readonly eligible: boolean[];
  private epochs = 0;

  constructor(workers: number) {
    this.rooms = Array.from({ length: workers }, () => new Set<string>());
    this.eligible = new Array<boolean>(workers).fill(false);
  }

  get workers(): number {
    return this.rooms.length;
  }

  /** A new worker (a replacement during a reload): its index; it takes rooms once eligible. */
  addWorker(): number {
    this.rooms.push(new Set<string>());
    this.eligible.push(false);
    return this.rooms.length - 1;
  }

  /** The worker a client connection for the room goes to (placing it tentatively if new). */
  route(ref: RoomRef, now: number): number | undefined {
    const key = roomKey(ref);
    const owner = this.owners.get(key);
    if (owner !== undefined) return owner.worker;
    const worker = this.leastLoaded();
    if (worker !== undefined) this.add(key, worker, now + TENTATIVE_MS);
    return worker;
  }

  /**
   * A worker asks where the room lives. It keeps its owner (a tentative owner now holds it);
   * a room nobody owns is held by `claimer` when given and eligible, else by the eligible
   * worker with the fewest rooms. Undefined when no worker may take it.
   */
  locate(ref: RoomRef, claimer?: number): Owner | undefined {
    const key = roomKey(ref);
    const owner = this.owners.get(key);
    if (owner !== undefined) {
      owner.lapsesAt = undefined;
      return owner;
    }
    const worker = claimer !== undefined && this.eligible[claimer] ? claimer : this.leastLoaded();
    return worker === undefined ? undefined : this.add(key, worker, undefined);
  }

  ownerOf(ref: RoomRef): Owner | undefined {
    return this.owners.get(roomKey(ref));
  }

  /** The worker gave the room up (evicted, drained); a release by a former owner is ignored. */
  release(ref: RoomRef, worker: number): void {
    const key = roomKey(ref);
    if (this.owners.get(key)?.worker === worker) this.remove(key, worker);
  }

  /**
   * The worker gives the room to worker `to`: held by `to` now (a new epoch) if it may take
   * rooms, else nobody's. Ignored unless `from` owns the room.
   */
  handOff(ref: RoomRef, from: number, to: number): void {
    const key = roomKey(ref);
    if (this.owners.get(key)?.worker !== from) return;
    this.remove(key, from);
    if (this.eligible[to]) this.add(key, to, undefined);
  }

  /** The worker exited: every room it owned is nobody's, and it takes none until it is back. */
  clear(worker: number): void {
    for (const key of this.rooms[worker]!) this.owners.delete(key);
    this.rooms[worker]!.clear();
    this.eligible[worker] = false;
  }

  /** Drops tentative entries whose time is up. */
  sweep(now: number): void {
    for (const [key, owner] of this.owners) {
      if (owner.lapsesAt !== undefined && owner.lapsesAt <= now) this.remove(key, owner.worker);
    }
  }

  /** Whether the worker may be given new rooms (ready, not stuck, not draining). */
  setEligible(worker: number, eligible: boolean): void {
    this.eligible[worker] = eligible;
  }

  isEligible(worker: number): boolean {
    return this.eligible[worker] === true;
  }

  /** Rooms held by or tentatively placed on the worker. */
  count(worker: number): number {
    return this.rooms[worker]!.size;
  }

  /** An eligible worker with the fewest rooms (the lowest index on ties); undefined if none. */
  leastLoaded(): number | undefined {
    let best: number | undefined;
    for (let worker = 0; worker < this.rooms.length; worker++) {
      if (!this.eligible[worker]) continue;
      if (best === undefined || this.rooms[worker]!.size < this.rooms[best]!.size) best = worker;
    }
    return best;
  }

  private add(key: string, worker: number, lapsesAt: number | undefined): Entry {
    const entry = { worker, epoch: ++this.epochs, lapsesAt };
    this.owners.set(key, entry);
    this.rooms[worker]!.add(key);
    return entry;
  }

  private remove(key: string, worker: number): void {
    this.owners.delete(key);
    this.rooms[worker]!.delete(key);
  }
}
