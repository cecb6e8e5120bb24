/**
 * The one seam between the front door and the rooms: once a request is known to be for a room
 * (and onBeforeRequest / onBeforeConnect ran on this node), a RoomRouter delivers it — to the
 * room here, or, in cluster mode, to the node that owns it. Room-to-room `stub.fetch()` goes
 * through the same router.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type * as Party from "../types/party.js";
import type { RoomRef } from "../storage/engine.js";

/** An HTTP exchange the router answers. */
export interface HttpExchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The request was HEAD: headers only. */
  readonly head: boolean;
  /**
   * The request is the client's own, unchanged by onBeforeRequest, so its body (if any) can be
   * read straight from `req` instead of through a web stream.
   */
  readonly untouched: boolean;
  /** Writes the room's answer (the front door first checks what the body limits cut off). */
  send(response: Response): Promise<void> | void;
}

/** A WebSocket upgrade the router completes (or rejects with an HTTP answer). */
export interface UpgradeExchange {
  readonly req: IncomingMessage;
  readonly socket: Socket;
  readonly head: Buffer;
}

/** Who asked: an outside client (past onBefore*), a room on this node, or a peer node. */
export type Caller = "client" | "stub" | "peer";

/** What the router needs from this node to deliver locally: today's single-process path. */
export interface LocalDelivery {
  /** The room's onRequest (past onBeforeRequest). */
  request(party: string, room: string, request: Party.Request): Promise<Response>;
  /** Connects the socket to the room here: onConnect, then the 101. */
  connect(party: string, room: string, request: Party.Request, upgrade: UpgradeExchange): Promise<void>;
}

/** What cluster mode also needs from this node: the rooms it holds, and dropping one. */
export interface HeldRooms {
  /** Every room held here now. */
  rooms(): RoomRef[];
  /** Closes the room's sockets with `code`, flushes and closes its storage, forgets it. */
  drop(party: string, room: string, code: number, reason: string): Promise<void>;
  /** Whether the room can move now: "empty" (no socket) or "hibernated"; undefined if busy or not here. */
  quiet(party: string, room: string): "empty" | "hibernated" | undefined;
}

/** The `Upgrade` value of a node-to-node link (cluster mode): many forwarded requests on one connection. */
export const PEER_LINK_UPGRADE = "partyhouse-link";
/** The `Upgrade` value that switches a connection between nodes to TLS, before its link (cluster mode with TLS). */
export const PEER_TLS_UPGRADE = "partyhouse-tls";

/** Whether an `Upgrade` value (lower case) is a peer node's, which the router accepts. */
export function isPeerUpgrade(protocol: string): boolean {
  return protocol === PEER_LINK_UPGRADE || protocol === PEER_TLS_UPGRADE;
}

export interface RoomRouter {
  /** Answers an HTTP request for a room. */
  request(party: string, room: string, request: Party.Request, exchange: HttpExchange, caller: Caller): Promise<void>;
  /** Connects a WebSocket to a room. */
  connect(party: string, room: string, request: Party.Request, upgrade: UpgradeExchange, caller: Caller): Promise<void>;
  /** `stub.fetch()` from a room: the room's onRequest wherever it lives, bypassing onBeforeRequest. */
  fetch(party: string, room: string, request: Request): Promise<Response>;
  /**
   * Answers a peer node's upgrade (isPeerUpgrade): checks it and takes the connection over as a
   * link (src/cluster/link-accept.ts). Connections it produces (the link's virtual connections,
   * an encrypted connection) go to `serve`, which serves them as this node's HTTP server serves
   * any connection. Absent outside cluster mode.
   */
  acceptPeer?(req: IncomingMessage, socket: Socket, head: Buffer, serve: (connection: Duplex) => void): Promise<void> | void;
  /** Whether this node runs the room's events now (alarms ask before firing). */
  isLocal(party: string, room: string): Promise<boolean>;
  /**
   * Server stop, before the rooms close. Cluster mode hands every room back one by one (flush,
   * sockets closed 1012, release) and closes the sockets it proxies with 1012, so clients
   * reconnect to another node. Single-process mode has nothing to hand back.
   */
  drain(): Promise<void>;
}

/** Single-process mode: every room is here. Adds one call per request and nothing else. */
export class LocalRouter implements RoomRouter {
  constructor(private readonly local: LocalDelivery) {}

  async request(party: string, room: string, request: Party.Request, exchange: HttpExchange): Promise<void> {
    // Awaited rather than returned: an async function that returns a promise pays two more
    // microtasks and a promise to adopt it (so does the front door's).
    await exchange.send(await this.local.request(party, room, request));
  }

  connect(party: string, room: string, request: Party.Request, upgrade: UpgradeExchange): Promise<void> {
    return this.local.connect(party, room, request, upgrade);
  }

  fetch(party: string, room: string, request: Request): Promise<Response> {
    return this.local.request(party, room, request as Party.Request);
  }

  isLocal(): Promise<boolean> {
    return Promise.resolve(true);
  }

  async drain(): Promise<void> {}
}
