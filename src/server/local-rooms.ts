/**
 * The rooms of this node, as a router delivers to them once it knows a request is for a room
 * here: a request to the room's onRequest, a WebSocket joined to the room (onConnect, then the
 * handshake), and for cluster mode the rooms held here, dropping one, and whether one is quiet.
 * The router holds a reference to it, so the path from the front door to a room is plain named
 * calls: FrontDoor → RoomRouter (LocalRouter or ClusterRouter) → LocalRooms → Project / RoomHost.
 */
import { randomUUID } from "node:crypto";
import type * as Party from "../types/party.js";
import type { Project } from "../runtime/project.js";
import type { RoomRef } from "../storage/engine.js";
import type { HeldRooms, LocalDelivery, UpgradeExchange } from "./room-router.js";
import type { WebSocketAcceptor } from "./room-websockets.js";
import { rejectUpgrade } from "./upgrade-response.js";

export class LocalRooms implements LocalDelivery, HeldRooms {
  constructor(
    private readonly project: Project,
    private readonly sockets: WebSocketAcceptor,
  ) {}

  /** The room's onRequest (past onBeforeRequest). */
  request(party: string, room: string, request: Party.Request): Promise<Response> {
    return this.project.requestRoom(party, room, request);
  }

  /** The room here runs onConnect, then the handshake completes and the socket hears the room. */
  async connect(partyName: string, roomId: string, request: Party.Request, upgrade: UpgradeExchange): Promise<void> {
    const party = this.project.party(partyName);
    if (!party) return rejectUpgrade(upgrade.socket, new Response(`Party ${partyName} not found`, { status: 404 }));
    const id = new URL(request.url).searchParams.get("_pk") || randomUUID();
    const room = party.room(roomId);
    const { req, socket, head } = upgrade;
    await room.connect(request, id, (record) => this.sockets.acceptRoomSocket(req, socket, head, room, record));
  }

  rooms(): RoomRef[] {
    return this.project.roomRefs();
  }

  drop(party: string, room: string, code: number, reason: string): Promise<void> {
    return this.project.dropRoom(party, room, code, reason);
  }

  quiet(party: string, room: string): "empty" | "hibernated" | undefined {
    return this.project.quietState(party, room);
  }
}
