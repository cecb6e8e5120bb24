/**
 * What flows between stores and files: a store's content as records, grouped by room in
 * (party, room) UTF-8 byte order. Within a room: its entries in key order, then its alarm, then
 * an `end` record saying how far a copy has got once this room is written (the position a rerun
 * resumes from). Keys and values are the stored bytes, never decoded, so copies are exact.
 */
import type { RoomRef } from "../storage/engine.js";
import { compareKeys } from "../storage/keys.js";

export interface EntryRecord {
  readonly kind: "entry";
  readonly party: string;
  readonly room: string;
  /** The key's UTF-8 bytes, as stored. */
  readonly key: Buffer;
  /** The value's v8 serialization bytes, as stored. */
  readonly value: Buffer;
}

export interface AlarmRecord {
  readonly kind: "alarm";
  readonly party: string;
  readonly room: string;
  /** ms since the epoch. */
  readonly time: number;
}

/** Where a reader is once a room is complete: a store's last room, or a file's line count. */
export type Position = { readonly after: readonly [party: string, room: string] } | { readonly lines: number };

export interface RoomEndRecord {
  readonly kind: "end";
  readonly party: string;
  readonly room: string;
  readonly position: Position;
}

export type StoreRecord = EntryRecord | AlarmRecord | RoomEndRecord;

/** Which rooms an export or import takes: one party (or all), rooms starting with a prefix. */
export interface RoomFilter {
  readonly party?: string;
  readonly prefix?: string;
  /** Exactly this room (per-room export, verification repairs). */
  readonly room?: string;
}

export function roomMatches(filter: RoomFilter, party: string, room: string): boolean {
  if (filter.party !== undefined && party !== filter.party) return false;
  if (filter.room !== undefined && room !== filter.room) return false;
  return filter.prefix === undefined || room.startsWith(filter.prefix);
}

/** (party, room) in UTF-8 byte order, the order every store lists rooms in. */
export function compareRooms(a: RoomRef, b: RoomRef): number {
  return compareKeys(a.party, b.party) || compareKeys(a.room, b.room);
}

export function sameRoom(a: RoomRef, b: RoomRef): boolean {
  return a.party === b.party && a.room === b.room;
}
