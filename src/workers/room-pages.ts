/**
 * One page of a party's rooms across workers. Each worker lists its rooms in memory and the
 * rooms in the shared store after the same cursor, up to the same limit (src/admin/room-list.ts);
 * the union of those pages, cut at the limit, is the page of the union: a room one worker left
 * out sorts after that worker's last one, which is at or after the union's limit-th. So the walk
 * keeps room-list.ts's promise: a room that exists for the whole walk is listed exactly once.
 */
import { encodeCursor, type RoomListEntry, type RoomListPage } from "../admin/room-list.js";
import { compareKeys } from "../storage/keys.js";

export interface WorkerRoomEntry extends RoomListEntry {
  /** The worker holding the room in memory; null when no worker does. */
  readonly worker: number | null;
}

export interface WorkerRoomPage {
  readonly worker: number;
  readonly page: RoomListPage;
}

export function mergeRoomPages(pages: readonly WorkerRoomPage[], limit: number): { rooms: WorkerRoomEntry[]; next: string | null } {
  const byId = new Map<string, WorkerRoomEntry>();
  for (const { worker, page } of pages) {
    for (const room of page.rooms) {
      const seen = byId.get(room.id);
      const stored = room.stored || seen?.stored === true;
      // Live on one worker wins over "not live" from the others (which read only the store).
      if (seen === undefined || (room.live && !seen.live)) byId.set(room.id, { ...room, stored, worker: room.live ? worker : null });
      else if (stored !== seen.stored) byId.set(room.id, { ...seen, stored });
    }
  }
  const ids = [...byId.keys()].sort(compareKeys);
  const rooms = ids.slice(0, limit).map((id) => byId.get(id)!);
  const more = ids.length > limit || pages.some(({ page }) => page.next !== null);
  return { rooms, next: more && rooms.length > 0 ? encodeCursor(rooms[rooms.length - 1]!.id) : null };
}
