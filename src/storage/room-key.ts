import type { RoomRef } from "./engine.js";

/**
 * The one map key of a room, wherever rooms are kept in maps (storage, runtime, placement,
 * routing): build it with `roomKey`. Not for what leaves the process in a fixed form: a room's
 * `internalID` hash (room-api.ts) and backup checksums (src/data) keep their own encodings.
 */
export type RoomKey = string & { readonly __brand: "RoomKey" };

/** One string per room, unambiguous whatever characters party and room names contain. */
export function roomKey(ref: RoomRef): RoomKey {
  return `${ref.party.length}:${ref.party}/${ref.room}` as RoomKey;
}
