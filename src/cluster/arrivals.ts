/**
 * Where a room's clients arrive, for rebalancing (spec §5.7: rooms rebalance as nodes join or
 * return). For each room held here: which node each client request or WebSocket reached first,
 * this node or the peer that forwarded it to us, remembered for a few windows. A load balancer
 * that hashes the room path sends all of a room's clients to one node; when that is another node
 * (it came back after a fault, or joined, and the hash moved to it), every recent arrival names
 * it, and the room is better off there. Requests of rooms' stubs and alarms are not clients' and
 * are not counted.
 *
 * A room is named only when, over the last HORIZON windows, all its clients came through that
 * one node, at least MIN_ARRIVALS of them, over at least two windows. A balancer that does not
 * hash (round robin) shows several nodes within the horizon, so its rooms stay put; after a hash
 * moved, the old node's arrivals must first leave the horizon. The evidence outlives the window
 * it was seen in, so a room that is busy while its clients arrive can move once it is quiet
 * (a hibernating room hibernates only after its last event).
 *
 * Memory: one small entry per room with client traffic in the last HORIZON windows.
 */
import { roomKey, type RoomKey } from "../storage/room-key.js";

/** Windows an arrival is remembered. */
const HORIZON = 3;
/** Arrivals through the one node a room needs before it is named. */
const MIN_ARRIVALS = 3;

interface Seen {
  /** Window of the first and of the latest arrival through this node (still remembered). */
  first: number;
  last: number;
  count: number;
}

export interface Arrived {
  readonly party: string;
  readonly room: string;
  /** The node every recent client of the room reached. */
  readonly via: string;
}

export class Arrivals {
  private window = 0;
  private readonly rooms = new Map<RoomKey, { party: string; room: string; by: Map<string, Seen> }>();

  /** A client request or WebSocket for the room reached node `via` first (this node's id when it came straight here). */
  note(party: string, room: string, via: string): void {
    const key = roomKey({ party, room });
    let entry = this.rooms.get(key);
    if (entry === undefined) this.rooms.set(key, (entry = { party, room, by: new Map() }));
    const seen = entry.by.get(via);
    if (seen === undefined) entry.by.set(via, { first: this.window, last: this.window, count: 1 });
    else {
      seen.last = this.window;
      seen.count++;
    }
  }

  /** The room went elsewhere (handed off): what was seen of it no longer matters here. */
  forget(party: string, room: string): void {
    this.rooms.delete(roomKey({ party, room }));
  }

  /**
   * Ends the current window: rooms whose every remembered client arrived through one node other
   * than `self` (see the header); arrivals older than the horizon are forgotten.
   */
  take(self: string): Arrived[] {
    const found: Arrived[] = [];
    for (const [key, entry] of this.rooms) {
      for (const [via, seen] of entry.by) if (seen.last <= this.window - HORIZON) entry.by.delete(via);
      if (entry.by.size === 0) {
        this.rooms.delete(key);
        continue;
      }
      if (entry.by.size !== 1) continue;
      const [via, seen] = entry.by.entries().next().value as [string, Seen];
      if (via !== self && seen.count >= MIN_ARRIVALS && seen.last > seen.first) found.push({ party: entry.party, room: entry.room, via });
    }
    this.window++;
    return found;
  }
}
