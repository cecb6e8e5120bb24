/**
 * The RoomRouter of cluster mode: asks the Placement where a room lives and delivers here
 * or forwards to the owner over the peer link (HTTP requests with bodies of any size, and
 * WebSockets as byte tunnels on virtual connections). A stale route — the owner answers "moved" or cannot be reached — is re-located and
 * retried. A request a peer forwarded is served here or answered "moved", never forwarded again,
 * so routes cannot loop.
 *
 * The rule (README.md, "One rule for placement"): the edge asks `locate` and goes where it
 * says; the node a request was forwarded to does not ask `locate` again but serves it, and the
 * runtime claims the room before building an instance (`Placement.acquire`: claims here
 * unless a live node holds it). Only when a live node holds it does the receiving node answer
 * 503 `x-partyhouse-moved`, and the edge invalidates and retries.
 */
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { RoomMovedError, type Placement, type RoomLocation } from "../runtime/placement.js";
import type * as Party from "../types/party.js";
import { describeError, type Logger } from "../runtime/logger.js";
import { sendWebResponse } from "../server/http-bridge.js";
import { EDGE_HEADER, MOVED_HEADER } from "../server/internal-auth.js";
import type { Caller, HeldRooms, HttpExchange, LocalDelivery, RoomRouter, UpgradeExchange } from "../server/room-router.js";
import { rejectUpgrade } from "../server/upgrade-response.js";
import { Arrivals } from "./arrivals.js";
import { LinkAcceptor } from "./link-accept.js";
import type { PeerTls } from "./peer-tls.js";
import { isReplayable, outboundBody, requestMeta, type OutboundBody } from "./forwarded-request.js";
import { EdgeLink, linkedToWebResponse, movedOwnerOf, relayLinked, type LinkedResponse } from "./link-edge.js";
import { OwnerLink } from "./link-owner.js";
import { LinkStream } from "./link-stream.js";
import { openTunnel, WebSocketTunnel, type TunnelOpen } from "./ws-tunnel.js";

/** Waits before each retry of a stale route: 100 ms × 2ⁿ (Rivet Guard's recipe), 3 retries. */
export const RETRY_DELAYS_MS: readonly number[] = [100, 200, 400];

type ClusterLocal = LocalDelivery & HeldRooms;
/** Where an HTTP request was answered: here, by the owner over the link, or nowhere (503). */
type Delivered =
  | { readonly kind: "here"; readonly response: Response }
  | { readonly kind: "linked"; readonly response: LinkedResponse }
  | { readonly kind: "moved" | "unreachable" };
/** "moved" may name the owner's address (the x-partyhouse-moved value), or "unavailable". */
type StaleAnswer = { readonly kind: "moved"; readonly owner?: string } | { readonly kind: "unreachable"; readonly error: Error };

export interface ClusterRouterOptions {
  directory: Placement;
  local: ClusterLocal;
  logger: Logger;
  /** Tests shorten the waits. */
  retryDelaysMs?: readonly number[];
  /**
   * Rebalancing window (ms): a room held here whose recent client requests and WebSockets all
   * arrived through one other node (arrivals.ts), and that is quiet (nothing running; no
   * socket, or only a hibernated room's), is handed to that node (`directory.handOff`). Off if absent.
   */
  rebalanceEveryMs?: number;
  /** Mutual TLS between nodes (peer-tls.ts): links go out over it and come in only over it. */
  tls?: PeerTls;
}

export class ClusterRouter implements RoomRouter {
  private readonly directory: Placement;
  private readonly local: ClusterLocal;
  private readonly logger: Logger;
  private readonly delays: readonly number[];
  /** One link per peer this node forwards to, and the links peers opened to this node. */
  private readonly edgeLinks = new Map<string, EdgeLink>();
  private readonly ownerLinks = new Set<OwnerLink>();
  private readonly tunnels = new Set<WebSocketTunnel>();
  /** Where the clients of rooms held here arrive (rebalancing). */
  private readonly arrivals = new Arrivals();
  private rebalanceTimer: NodeJS.Timeout | undefined;
  private readonly tls: PeerTls | undefined;
  private readonly acceptor: LinkAcceptor;
  /** Set when the drain starts: no new links from peers. */
  private draining = false;

  constructor(options: ClusterRouterOptions) {
    this.directory = options.directory;
    this.local = options.local;
    this.logger = options.logger;
    this.delays = options.retryDelaysMs ?? RETRY_DELAYS_MS;
    this.tls = options.tls;
    this.acceptor = new LinkAcceptor({
      secret: this.directory.secret,
      ...(options.tls ? { tls: options.tls } : {}),
      logger: this.logger,
      draining: () => this.draining,
      link: (socket, head, serve) => this.ownerLink(socket, head, serve),
    });
    if (options.rebalanceEveryMs !== undefined) {
      this.rebalanceTimer = setInterval(() => this.rebalance(), options.rebalanceEveryMs);
      this.rebalanceTimer.unref();
    }
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  async request(party: string, room: string, request: Party.Request, exchange: HttpExchange, caller: Caller): Promise<void> {
    const { res, head } = exchange;
    if (caller === "peer") {
      this.arrived(party, room, exchange.req.headers[EDGE_HEADER]);
      // A RoomMovedError of the claim comes back as 503 + x-partyhouse-moved: the edge retries.
      return exchange.send(await this.local.request(party, room, request));
    }
    const answer = await this.deliver(party, room, request, exchange, caller);
    if (answer.kind === "here") return exchange.send(answer.response);
    if (answer.kind === "linked") return relayLinked(answer.response, res, head);
    return sendWebResponse(res, unavailableResponse(answer.kind));
  }

  async fetch(party: string, room: string, request: Request): Promise<Response> {
    const answer = await this.deliver(party, room, request as Party.Request, undefined, "stub");
    if (answer.kind === "here") return answer.response;
    if (answer.kind === "linked") return linkedToWebResponse(answer.response, request.method);
    return unavailableResponse(answer.kind);
  }

  /**
   * The one retry loop of HTTP (a client's request and a room's `stub.fetch()` alike): locate,
   * deliver here or over the link to the owner, and after a stale route forget it, wait and try
   * again while the body can be sent again.
   */
  private async deliver(party: string, room: string, request: Party.Request, exchange: HttpExchange | undefined, caller: Caller): Promise<Delivered> {
    let body: OutboundBody | undefined;
    for (let attempt = 0; ; attempt++) {
      const location = await this.locateOrUnavailable(party, room, caller === "client");
      if (location === undefined) return { kind: "unreachable" };
      if (location.kind === "local") {
        if (caller === "client") this.arrivals.note(party, room, this.directory.nodeId);
        const response = await this.local.request(party, room, body === undefined ? request : withBody(request, body));
        if (!isMoved(response)) return { kind: "here", response };
        // Lost between locate and the build (taken over, fenced): like a stale route.
        const replayable = body === undefined ? request.body === null : isReplayable(body);
        if (replayable && (await this.retry(party, room, undefined, { kind: "moved" }, attempt, true))) continue;
        return { kind: "moved" };
      }
      body ??= await outboundBody(request, exchange);
      const answer = await this.viaLink(location, party, room, request, body, caller === "client" ? this.directory.nodeId : undefined);
      if (answer.kind === "response") return { kind: "linked", response: answer.response };
      if (!(await this.retry(party, room, location, answer, attempt, isReplayable(body)))) return { kind: answer.kind };
    }
  }

  /** One attempt over the peer link to the owner: its answer, or why there is none. */
  private async viaLink(
    location: Extract<RoomLocation, { kind: "remote" }>,
    party: string,
    room: string,
    request: Party.Request,
    body: OutboundBody,
    edge?: string,
  ): Promise<{ readonly kind: "response"; readonly response: LinkedResponse } | StaleAnswer> {
    const meta = requestMeta(party, room, request, edge, body.kind === "stream");
    const sent = body.kind === "buffer" ? body.data : body.kind === "stream" ? body.source : undefined;
    const answer = await this.linkTo(location.address).request(meta, sent);
    if (answer.kind !== "response") return answer;
    const owner = movedOwnerOf(answer.response.head);
    if (owner === undefined) return answer;
    answer.response.cancel();
    return { kind: "moved", owner };
  }

  /** This node's link to a peer, opened on first use. */
  private linkTo(address: string): EdgeLink {
    let link = this.edgeLinks.get(address);
    if (!link) this.edgeLinks.set(address, (link = new EdgeLink(address, this.directory.secret, this.tls)));
    return link;
  }

  /** A peer's upgrade: checked by the acceptor (secret, drain, TLS), then its link. */
  acceptPeer(req: IncomingMessage, socket: Socket, head: Buffer, serve: (connection: Duplex) => void): Promise<void> | void {
    return this.acceptor.accept(req, socket, head, serve);
  }

  /** A peer's link: requests it forwards to rooms here arrive on it (see link-owner.ts). */
  private ownerLink(socket: Socket, head: Buffer, serve: (connection: Duplex) => void): void {
    const link: OwnerLink = new OwnerLink(socket, head, {
      request: (party, room, request) => this.serveLinked(party, room, request),
      connection: serve,
      failure: (error) => this.logger.log("error", "request failed", describeError(error)),
    });
    this.ownerLinks.add(link);
    socket.once("close", () => this.ownerLinks.delete(link));
  }

  private async serveLinked(party: string, room: string, request: Party.Request): Promise<Response> {
    // Read, then kept from the room: it describes the hop.
    const edge = request.headers.get(EDGE_HEADER);
    if (edge !== null) request.headers.delete(EDGE_HEADER);
    this.arrived(party, room, edge ?? undefined);
    // Served here: the claim before the build answers "moved" if a live node holds the room.
    return this.local.request(party, room, request);
  }

  // ---- WebSocket ----------------------------------------------------------------------------

  async connect(party: string, room: string, request: Party.Request, upgrade: UpgradeExchange, caller: Caller): Promise<void> {
    if (caller === "peer") {
      this.arrived(party, room, upgrade.req.headers[EDGE_HEADER]);
      try {
        return await this.local.connect(party, room, request, upgrade);
      } catch (error) {
        if (error instanceof RoomMovedError) return rejectUpgrade(upgrade.socket, error.toResponse());
        throw error;
      }
    }
    for (let attempt = 0; ; attempt++) {
      if (upgrade.socket.destroyed) return;
      const location = await this.locateOrUnavailable(party, room, caller === "client");
      if (location === undefined) {
        return rejectUpgrade(upgrade.socket, unavailableResponse("unreachable"));
      }
      if (location.kind === "local") {
        if (caller === "client") this.arrivals.note(party, room, this.directory.nodeId);
        try {
          return await this.local.connect(party, room, request, upgrade);
        } catch (error) {
          if (!(error instanceof RoomMovedError)) throw error;
          if (await this.retry(party, room, undefined, { kind: "moved" }, attempt, true)) continue;
          return rejectUpgrade(upgrade.socket, unavailableResponse("moved"));
        }
      }
      const connection = await this.linkTo(location.address).openStream();
      const opened = connection instanceof LinkStream
        ? await openTunnel(connection, upgrade.req.url ?? "/", request, upgrade.req, this.directory.secret, caller === "client" ? this.directory.nodeId : undefined)
        : connection;
      if (opened.kind === "open") return this.tunnel(opened, upgrade);
      if (opened.kind === "rejected") return rejectUpgrade(upgrade.socket, opened.response);
      if (!(await this.retry(party, room, location, opened, attempt, true))) {
        return rejectUpgrade(upgrade.socket, unavailableResponse(opened.kind));
      }
    }
  }

  private tunnel(opened: Extract<TunnelOpen, { kind: "open" }>, upgrade: UpgradeExchange): void {
    if (upgrade.socket.destroyed || !upgrade.socket.writable) {
      // The client left while the owner was accepting: the owner sees the socket drop.
      opened.upstream.destroy();
      return;
    }
    const tunnel = new WebSocketTunnel(upgrade.socket, opened.upstream, opened, upgrade.head, (ended) => this.tunnels.delete(ended));
    this.tunnels.add(tunnel);
  }

  // ---- placement ----------------------------------------------------------------------------

  async isLocal(party: string, room: string): Promise<boolean> {
    return (await this.locate(party, room)).kind === "local";
  }

  /**
   * `locate`, or undefined when this node cannot say (not live, database unreachable). A client
   * of this node claims a room nobody holds here (placement follows the load balancer); a
   * room's stub, like an alarm, leaves the choice to the rendezvous hash.
   */
  private async locateOrUnavailable(party: string, room: string, claimHere: boolean): Promise<RoomLocation | undefined> {
    try {
      return await this.locate(party, room, claimHere);
    } catch (error) {
      this.logger.log("warn", "cannot locate a room", { party, room, ...describeError(error) });
      return undefined;
    }
  }

  /**
   * Graceful drain: stop claiming, hand every room back one by one (its sockets close with
   * 1012 so clients reconnect, through any node, to the next owner; storage is flushed before
   * the release), then close the sockets this node proxies for other owners with 1012.
   */
  async drain(): Promise<void> {
    this.draining = true;
    clearInterval(this.rebalanceTimer);
    await this.directory.drain();
    for (const ref of this.local.rooms()) {
      const handedBack = this.directory.release(ref, this.local.drop(ref.party, ref.room, 1012, "node draining"));
      await this.logFailure(ref.party, ref.room, handedBack);
    }
    for (const tunnel of this.tunnels) tunnel.shutdown(1012, "node draining");
    this.tunnels.clear();
    for (const link of this.edgeLinks.values()) link.close();
    this.edgeLinks.clear();
    for (const link of this.ownerLinks) link.close();
    this.ownerLinks.clear();
  }

  /** A forwarded request or socket: `edge` (x-partyhouse-edge) is the node its client reached; none for a room's stub. */
  private arrived(party: string, room: string, edge: string | string[] | undefined): void {
    if (typeof edge === "string" && edge !== "") this.arrivals.note(party, room, edge);
  }

  /**
   * Every window: rooms whose clients all arrived through one other node go there if they are
   * quiet (README, "Rebalancing"). The drop closes a hibernated room's sockets with 1012; its
   * clients reconnect through the load balancer, to that node. The placement builds no
   * instance of the room here while it is being handed off.
   */
  private rebalance(): void {
    for (const { party, room, via } of this.arrivals.take(this.directory.nodeId)) {
      if (this.local.quiet(party, room) === undefined) continue;
      this.arrivals.forget(party, room);
      const drop = () => this.local.drop(party, room, 1012, "room moved to the node its clients reach");
      void this.logFailure(party, room, this.directory.handOff({ party, room }, via, drop));
    }
  }

  private locate(party: string, room: string, claimHere = false): Promise<RoomLocation> {
    return this.directory.locate({ party, room }, { claimHere });
  }

  /** Logs the failure of a hand-back or hand-off (the placement settles the room either way). */
  private logFailure(party: string, room: string, work: Promise<void>): Promise<void> {
    return work.catch((error) => this.logger.log("error", "handing back a room failed", { party, room, ...describeError(error) }));
  }

  /** After a stale route: forget it, wait, and say whether to try again. */
  private async retry(
    party: string,
    room: string,
    location: Extract<RoomLocation, { kind: "remote" }> | undefined,
    answer: StaleAnswer,
    attempt: number,
    replayable: boolean,
  ): Promise<boolean> {
    this.directory.invalidate({ party, room });
    // The node we asked named the owner: go there now (the usual case after the optimistic
    // first route to a room's preferred node, which someone else turned out to hold).
    const redirected = attempt === 0 && answer.kind === "moved" && answer.owner !== undefined && answer.owner !== "unavailable";
    const delay = redirected ? 0 : this.delays[attempt];
    this.logger.log(redirected ? "debug" : "warn", "stale route to a room's owner", {
      party,
      room,
      node: location?.nodeId ?? this.directory.nodeId,
      answer: answer.kind,
      attempt: attempt + 1,
      ...("error" in answer ? { error: answer.error.message } : {}),
    });
    if (delay === undefined || !replayable) return false;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    return true;
  }
}

/** The request again, with a body that was already read (to deliver here after a retry). */
function withBody(request: Party.Request, body: OutboundBody): Party.Request {
  if (body.kind !== "buffer") return request;
  const copy = new Request(request.url, { method: request.method, headers: request.headers, body: body.data as unknown as BodyInit });
  if (request.cf !== undefined) Object.defineProperty(copy, "cf", { value: request.cf, enumerable: true, configurable: true });
  return copy as Party.Request;
}

/** The owner's "moved" marker (from this node's own claim, when the route said local). */
function isMoved(response: Response): boolean {
  return response.status === 503 && response.headers.has(MOVED_HEADER);
}

/** 503 with Retry-After: the room is between owners, or its owner cannot be reached. */
function unavailableResponse(kind: "moved" | "unreachable"): Response {
  const text = kind === "moved" ? "The room is moving between nodes; try again" : "The node that owns the room cannot be reached; try again";
  return new Response(text, { status: 503, headers: { "retry-after": "1" } });
}
