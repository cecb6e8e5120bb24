/**
 * The placement of single-process mode: this process is the only node, so every room it is asked
 * for is claimed here (its data folder lock already guarantees no second process). Claims still
 * follow the contract: an epoch per claim, larger than the room's last, and a claim waits for a
 * release of the same room still in progress (its old instance flushing).
 */
import { randomBytes } from "node:crypto";
import type { RoomRef } from "../storage/engine.js";
import { roomKey, type RoomKey } from "../storage/room-key.js";
import type { AlarmSource, Placement, RoomLocation } from "./placement.js";

export class SingleProcessPlacement implements Placement {
  readonly nodeId = "local";
  readonly secret = randomBytes(16).toString("hex");
  readonly alarms: AlarmSource = { kind: "storage" };
  /** Rooms held here and their epochs; a room leaves when released. */
  private readonly held = new Map<RoomKey, number>();
  /** Releases in progress: a claim of the room waits for them. */
  private readonly releasing = new Map<RoomKey, Promise<void>>();
  /** One counter for every room: each claim's epoch is larger than any before it. */
  private epochs = 0;

  locate(room: RoomRef): Promise<RoomLocation> {
    return this.acquire(room);
  }

  async acquire(room: RoomRef): Promise<RoomLocation> {
    const key = roomKey(room);
    const pending = this.releasing.get(key);
    if (pending !== undefined) await pending;
    let epoch = this.held.get(key);
    if (epoch === undefined) this.held.set(key, (epoch = ++this.epochs));
    return { kind: "local", epoch };
  }

  invalidate(): void {}

  release(room: RoomRef, closed: Promise<void>): Promise<void> {
    const key = roomKey(room);
    const done = closed
      .catch(() => undefined)
      .then(() => {
        this.held.delete(key);
        if (this.releasing.get(key) === done) this.releasing.delete(key);
      });
    this.releasing.set(key, done);
    return done;
  }

  /** No other node exists to take it: the room is dropped and released. */
  handOff(room: RoomRef, _to: string, drop: () => Promise<void>): Promise<void> {
    return this.release(room, drop());
  }

  async drain(): Promise<void> {}

  onLost(): void {
    // Nothing is ever lost: no other process can own a room.
  }

  holdsLease(): boolean {
    return true;
  }
}
