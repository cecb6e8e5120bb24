/**
 * Where a room's clients arrive, for rebalancing (spec §5.7: rooms rebalance as nodes join or
 * return). For each room held here, over one window: which node each client request or
 * WebSocket reached first, this node or the peer that forwarded it to us. A load balancer that
 * hashes the room path sends all of a room's clients to one node; when that node is another one
 * (it came back after a fault, or joined, and the hash moved to it), every arrival names it, and
 * the room is better off there. Requests of rooms' stubs and alarms are not clients' and are
 * not counted. Memory: one entry per room with client traffic in the current window.
 */

interface Window {
  readonly party: string;
  readonly room: string;
  /** The one node every arrival of the window came through, or undefined once they differ. */
  via: string | undefined;
  count: number;
}

export interface Arrived {
  readonly party: string;
  readonly room: string;
  /** The node every client of the window reached. */
  readonly via: string;
  readonly count: number;
}

export class Arrivals {
  private window = new Map<string, Window>();

  /** A client request or WebSocket for the room reached node `via` first (this node's id when it came straight here). */
  note(party: string, room: string, via: string): void {
    const key = `${party}\0${room}`;
    const entry = this.window.get(key);
    if (entry === undefined) {
      this.window.set(key, { party, room, via, count: 1 });
      return;
    }
    entry.count++;
    if (entry.via !== via) entry.via = undefined;
  }

  /**
   * Rooms whose every client of the window (at least `min` of them) arrived through one node
   * other than `self`; then a new window begins.
   */
  take(self: string, min: number): Arrived[] {
    const found: Arrived[] = [];
    for (const { party, room, via, count } of this.window.values()) {
      if (via !== undefined && via !== self && count >= min) found.push({ party, room, via, count });
    }
    this.window = new Map();
    return found;
  }
}
