import type { RoomRef } from "./engine.js";

/** One string per room, unambiguous whatever characters party and room names contain. */
export function roomKey(ref: RoomRef): string {
  return `${ref.party.length}:${ref.party}/${ref.room}`;
}
