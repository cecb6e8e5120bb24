/**
 * A read-only view of the rooms a Project holds in memory, for the admin API and metrics.
 * It only looks: it never creates a room (no `party.room(id)`), never builds an instance and
 * never opens storage, so inspecting a hibernated room leaves it hibernated.
 */
import type { Project } from "../runtime/project.js";
import type { RoomHost } from "../runtime/room-host.js";
import type { PartyRoomCounts } from "../metrics/exporter.js";

export interface LiveRoom {
  readonly id: string;
  readonly sockets: number;
  /** The server instance is in memory. */
  readonly resident: boolean;
  /** A hibernating room whose instance is evicted while its sockets stay open. */
  readonly hibernated: boolean;
}

export interface LiveConnection {
  readonly id: string;
  readonly uri: string;
  readonly tags: readonly string[];
  /** The connection's state (null when none), read from the front door's socket record. */
  readonly state: unknown;
  /** False between the upgrade request and the 101 (onConnect still running). */
  readonly open: boolean;
}

export interface LiveRoomDetail extends LiveRoom {
  /** Whether the room's party hibernates (known once an instance was built). */
  readonly hibernates: boolean;
  connections(): IterableIterator<LiveConnection>;
}

export class LiveView {
  constructor(private readonly project: Project) {}

  partyNames(): string[] {
    return [...this.project.parties.keys()];
  }

  hasParty(name: string): boolean {
    return this.project.parties.has(name);
  }

  counts(party: string): PartyRoomCounts | undefined {
    const rooms = this.project.parties.get(party)?.rooms;
    if (rooms === undefined) return undefined;
    let resident = 0;
    let hibernated = 0;
    let sockets = 0;
    for (const room of rooms.values()) {
      if (room.isResident) resident++;
      else if (room.hibernating) hibernated++;
      sockets += room.sockets.size;
    }
    return { known: rooms.size, resident, hibernated, sockets };
  }

  *allCounts(): IterableIterator<[string, PartyRoomCounts]> {
    for (const party of this.project.parties.keys()) yield [party, this.counts(party)!];
  }

  /** Ids of the party's rooms in memory (unordered). */
  roomIds(party: string): string[] {
    const rooms = this.project.parties.get(party)?.rooms;
    return rooms === undefined ? [] : [...rooms.keys()];
  }

  room(party: string, id: string): LiveRoomDetail | undefined {
    const room = this.project.parties.get(party)?.rooms.get(id);
    return room === undefined ? undefined : detail(room);
  }
}

function summary(room: RoomHost): LiveRoom {
  return { id: room.id, sockets: room.sockets.size, resident: room.isResident, hibernated: !room.isResident && room.hibernating };
}

function detail(room: RoomHost): LiveRoomDetail {
  return {
    ...summary(room),
    hibernates: room.hibernating,
    *connections() {
      const policy = room.statePolicy;
      for (const record of room.sockets) {
        if (record.closed) continue;
        yield { id: record.id, uri: record.uri, tags: record.tags, state: policy.peek(record), open: record.ws !== null };
      }
    },
  };
}
