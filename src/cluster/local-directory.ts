/**
 * The directory of single-process mode: this process owns every room (its SQLite data folder
 * lock already guarantees no second owner). Lets the front door use one code path.
 */
import { randomBytes } from "node:crypto";
import type { RoomDirectory, RoomLocation } from "./directory.js";

const LOCAL: RoomLocation = { kind: "local", epoch: 1 };

export class LocalDirectory implements RoomDirectory {
  readonly nodeId = "local";
  readonly secret = randomBytes(16).toString("hex");

  locate(): Promise<RoomLocation> {
    return Promise.resolve(LOCAL);
  }

  invalidate(): void {}

  release(): Promise<void> {
    return Promise.resolve();
  }

  onLost(): void {
    // Nothing is ever lost: no other process can own a room.
  }
}
