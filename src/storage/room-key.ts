import type { RoomRef } from "./engine.js";

/** The one map key of a room, everywhere (storage, runtime, placement, routing): build it with `roomKey`. */
export type RoomKey = string & { readonly __brand: "RoomKey" };

/** One string per room, unambiguous whatever characters party and room names contain. */
export function roomKey(ref: RoomRef): RoomKey {
  return `${ref.party.length}:${ref.party}/${ref.room}` as RoomKey;
}
