/**
 * One page of a party's rooms: those in memory and those that exist only in storage, merged in
 * UTF-8 byte order of their ids. Paging is by keyset (the cursor is the last id of the page),
 * so rooms appearing or disappearing between requests never shift later pages: a room that
 * exists for the whole walk is listed exactly once.
 */
import { compareKeys } from "../storage/keys.js";
import type { StorageReader } from "../storage/contract.js";
import type { LiveView } from "./live-view.js";

export interface RoomListEntry {
  readonly id: string;
  /** In memory right now (with sockets, or active in the last seconds). */
  readonly live: boolean;
  /** Holds at least one key or an alarm in storage. */
  readonly stored: boolean;
  readonly resident: boolean;
  readonly hibernated: boolean;
  readonly sockets: number;
}

export interface RoomListPage {
  readonly rooms: RoomListEntry[];
  /** Pass as `cursor` for the next page; null on the last page. */
  readonly next: string | null;
}

export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

export async function listRoomsPage(
  view: LiveView,
  reader: StorageReader,
  party: string,
  cursor: string | undefined,
  limit: number,
): Promise<RoomListPage> {
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  // One more than the page from each source tells whether another page exists.
  const stored = await reader.listRooms(party, after, limit + 1);
  const live = view
    .roomIds(party)
    .filter((id) => after === undefined || compareKeys(id, after) > 0)
    .sort(compareKeys)
    .slice(0, limit + 1);
  const storedIds = new Set(stored);
  const ids = [...new Set([...live, ...stored])].sort(compareKeys);
  // Every id of the page sorts at or before the limit-th stored id, so `storedIds` is complete
  // for the page even when the stored list was cut at limit + 1.
  const page = ids.slice(0, limit);
  const rooms = page.map((id): RoomListEntry => {
    const room = view.room(party, id);
    return {
      id,
      live: room !== undefined,
      stored: storedIds.has(id),
      resident: room?.resident ?? false,
      hibernated: room?.hibernated ?? false,
      sockets: room?.sockets ?? 0,
    };
  });
  const next = ids.length > limit ? encodeCursor(page[page.length - 1]!) : null;
  return { rooms, next };
}

export function encodeCursor(id: string): string {
  return Buffer.from(id, "utf8").toString("base64url");
}

export class BadCursorError extends Error {
  override name = "BadCursorError";
}

export function decodeCursor(cursor: string): string {
  if (!/^[A-Za-z0-9_-]*$/.test(cursor)) throw new BadCursorError("cursor is not one this API returned");
  return Buffer.from(cursor, "base64url").toString("utf8");
}
