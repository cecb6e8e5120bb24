/**
 * Deleting one room's storage and alarm from outside the room (the admin API). Refused while the
 * room is live here (it has sockets or ran recently) unless forced; forced, the room is dropped
 * first (sockets close with 1012, its writes are flushed), as a reload would. The room is claimed
 * first (in a cluster its former owner's commits are then fenced), refused if a live node holds it.
 *
 * The keys and the alarm are deleted through the storage service like a room's own writes, in
 * one synchronous stretch after the last check that no instance exists: a request that arrives
 * meanwhile builds an instance that reads the deletion (the same storage object, not yet
 * closed), and the alarm scheduler hears of it from the commit, as for any alarm change.
 */
import type { RoomStorageHooks, StorageService } from "../storage/contract.js";
import type { RoomRef } from "../storage/engine.js";
import type { Placement } from "./placement.js";

export type DeleteOutcome =
  | { readonly kind: "deleted"; readonly closedSockets: number }
  | { readonly kind: "live"; readonly sockets: number }
  | { readonly kind: "elsewhere"; readonly nodeId: string; readonly address: string };

export interface DeletionHost {
  readonly storage: StorageService;
  readonly placement: Placement;
  /** Sockets of the room if it is live in this process, else undefined. */
  liveSockets(room: RoomRef): number | undefined;
  /** Drops the live room (sockets close with 1012); resolves once its storage is flushed and closed. */
  drop(room: RoomRef): Promise<void>;
  alarmChanged(room: RoomRef, time: number | null): void;
}

/** Attempts at dropping a forced room that keeps coming back (new requests for it). */
const MAX_DROPS = 3;

export async function deleteRoomStorage(host: DeletionHost, room: RoomRef, force: boolean): Promise<DeleteOutcome> {
  let closedSockets = 0;
  let claimed = false;
  for (let drops = 0; ; drops++) {
    const sockets = host.liveSockets(room);
    if (sockets !== undefined) {
      if (!force || drops === MAX_DROPS) return { kind: "live", sockets };
      closedSockets += sockets;
      await host.drop(room);
    }
    // Waits for a release of the room still on its way (eviction).
    if (!claimed) {
      const acquired = await host.placement.acquire(room);
      if (acquired.kind === "remote") return { kind: "elsewhere", nodeId: acquired.nodeId, address: acquired.address };
      claimed = true;
    }
    // Awaits above may have let a request build the room again: check once more, then no await
    // until the deletes are applied.
    if (host.liveSockets(room) === undefined) break;
  }
  const hooks: RoomStorageHooks = {
    operationStarted() {},
    operationEnded() {},
    alarmCommitted: (time) => host.alarmChanged(room, time),
    writeFailed() {},
  };
  const storage = host.storage.room(room, hooks);
  const deletes = Promise.all([storage.deleteAll(), storage.deleteAlarm()]);
  await deletes;
  await storage.sync();
  // A room built meanwhile uses this storage object now; it closes it when it goes.
  if (host.liveSockets(room) === undefined) {
    await storage.close();
    await host.placement.release(room, Promise.resolve());
  }
  return { kind: "deleted", closedSockets };
}
