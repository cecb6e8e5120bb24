import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import type { WebSocket } from "ws";
import type * as Party from "../types/party.js";
import { describeError } from "../runtime/logger.js";
import type { Project } from "../runtime/project.js";
import { RoomMovedError } from "../runtime/placement.js";
import { sendText, sendWebResponse, toWebRequest, type ToWebRequestInfo } from "./http-bridge.js";
import { callerOf, peerRequest } from "./internal-auth.js";
import { isPeerUpgrade, type RoomRouter, type UpgradeExchange } from "./room-router.js";
import { routeOf, type Route } from "./route.js";
import type { StaticAssets } from "./static-assets.js";
import { rejectUpgrade } from "./upgrade-response.js";
import { LocalWebSocket } from "../globals/local-websocket.js";
import { isUpgradeResponse } from "../runtime/websocket-response.js";
import { RemoteRoomHandle } from "../runtime/remote-room-handle.js";
import { RoomSocketHandle } from "../runtime/room-socket-handle.js";
import { requestTarget, type RequestTarget } from "./request-target.js";
import { DRAINING, refusalFor, refusalHeaders, refusalResponse, refusedLength, refusedOrigin, type Refusal } from "./admission.js";
import { BodyBudget, BodyMeter } from "./body-budget.js";
import { InFlight } from "./in-flight.js";
import type { ResolvedExposure } from "./limits.js";
import { httpOnly, internalRequest, runHook } from "./party-hooks.js";
import type { WebSocketAcceptor } from "./room-websockets.js";
import type { ResponseCounts } from "../metrics/counters.js";

export interface FrontDoorOptions {
  assets: StaticAssets | undefined;
  /** Body limits, allowed Origins, proxy trust (limits.ts). */
  exposure: ResolvedExposure;
  /** Serve dev-only routes (`/__scheduled__?cron=` to run a cron by hand). */
  dev: boolean;
  /** Requests without a body reach parties as a LazyRequest (options.ts). */
  lazyRequests: boolean;
  crons: Record<string, string>;
}

/**
 * The HTTP and WebSocket entry point: routes each request to a room (through the party's
 * onBeforeRequest / onBeforeConnect), or to static assets, onFetch / onSocket and the 404s.
 */
export class FrontDoor {
  /** Client sockets standing in for a WebSocketPair end: no room owns them, so the door closes them at shutdown. */
  private readonly pairClients = new Set<WebSocket>();

  /** Request body bytes being read by user code, over all requests (limits.ts). */
  readonly bodyBudget: BodyBudget;

  /** What toWebRequest may believe from a proxy in front: address headers, geo headers (limits.ts). */
  private readonly proxy: Pick<ToWebRequestInfo, "trustProxy" | "geoHeaders" | "lazy">;

  constructor(
    private readonly project: Project,
    /** Where room requests go once this node has run onBefore* (the room here, or its owner). */
    private readonly router: RoomRouter,
    /** The `ws` server: sockets for onSocket and WebSocketPair ends (room sockets join through LocalRooms). */
    private readonly sockets: WebSocketAcceptor,
    private readonly options: FrontDoorOptions,
  ) {
    this.bodyBudget = new BodyBudget(options.exposure.bodyBudgetBytes);
    const { trustProxy, geoHeaders } = options.exposure;
    this.proxy = { trustProxy, geoHeaders, lazy: options.lazyRequests };
  }

  /** Requests being answered; drained on shutdown (in-flight.ts). */
  readonly inFlight = new InFlight();
  private server: Server | undefined;

  /** Serves `server`'s requests and upgrades (and connections peer links carry, in a cluster). */
  attach(server: Server): void {
    this.server = server;
    server.on("request", this.handleRequest);
    server.on("upgrade", this.handleUpgrade);
  }

  readonly handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    // The target is parsed once here: routing below and the response count both use it.
    const target = requestTarget(req.url);
    const route = target === null ? null : routeOf(target.pathname);
    const responses = this.responseCountsFor(route);
    const refusal =
      (this.inFlight.draining ? DRAINING : null) ??
      refusedOrigin(req, this.options.exposure) ??
      refusedLength(req, this.options.exposure, this.bodyBudget);
    if (refusal !== null) {
      res.once("close", () => countFinished(responses, res));
      return refuse(res, refusal);
    }
    const meter = new BodyMeter(this.bodyBudget, this.options.exposure.maxBodyBytes);
    // In-flight tracking already listens for "close": the count rides on it, no listener of its own.
    this.inFlight.add(res, () => {
      meter.release();
      countFinished(responses, res);
    });
    this.serveHttp(req, res, meter, target, route).catch((error) => {
      // A body cut off by its limit surfaces in user code as an error: answer why, not 500.
      if (meter.failure !== null) return refuse(res, refusalFor(meter.failure));
      this.project.logger.log("error", "request failed", describeError(error));
      if (!res.headersSent) sendText(res, 500, error instanceof Error ? error.message : String(error));
      else res.destroy();
    });
  };

  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on("error", () => socket.destroy());
    this.serveUpgrade(req, socket as Socket, head).catch((error) => {
      if (error instanceof RoomMovedError) return void rejectUpgrade(socket, error.toResponse());
      this.project.logger.log("error", "upgrade failed", describeError(error));
      void rejectUpgrade(socket, new Response(error instanceof Error ? error.message : String(error), { status: 500 }));
    });
  };

  /** Where a response is counted: its party's counts, or the shared ones when no known party was addressed. */
  private responseCountsFor(route: Route | null): ResponseCounts {
    const counters = this.project.counters;
    if (route?.kind === "room" && this.project.party(route.party)) return counters.party(route.party).responses;
    return counters.unroutedResponses;
  }

  private async serveHttp(
    req: IncomingMessage,
    res: ServerResponse,
    meter: BodyMeter,
    target: RequestTarget | null,
    route: Route | null,
  ): Promise<void> {
    if (target === null || route === null) return sendText(res, 400, "Bad Request");
    const pathname = target.pathname;
    const head = req.method === "HEAD";
    const caller = callerOf(req.rawHeaders, this.project.secret);
    if (caller === "forged") return sendText(res, 403, "Forbidden");
    const send = (response: Response) => {
      // Already answered 503 by a shutdown that could not wait any longer.
      if (res.writableEnded) return;
      // Whatever user code answered after its body was cut off, the client learns why.
      return meter.failure !== null ? refuse(res, refusalFor(meter.failure)) : sendWebResponse(res, response, { head });
    };

    if (route.kind === "room") {
      const party = this.project.party(route.party);
      if (!party) return sendText(res, 404, `Party ${route.party} not found`);
      // A peer already ran onBeforeRequest on the node the client reached.
      if (caller === "peer") {
        const exchange = { req, res, head, untouched: true, send };
        return this.router.request(route.party, route.room, peerRequest(req, true), exchange, "peer");
      }
      const request = toWebRequest(req, { meter, ...this.proxy, target });
      let forwarded: Party.Request = request;
      const hook = party.definition.onBeforeRequest;
      if (hook) {
        const hooked = await runHook(hook, request, this.project.lobby(route.room), this.project.executionContext());
        if ("response" in hooked) return send(httpOnly(hooked.response));
        forwarded = hooked.request;
      }
      const exchange = { req, res, head, untouched: forwarded === request, send };
      // Awaited, not returned: adopting a returned promise costs two microtasks and a promise.
      await this.router.request(route.party, route.room, forwarded, exchange, "client");
      return;
    }
    const request = toWebRequest(req, { meter, ...this.proxy, target });
    return send(httpOnly(await this.serveNonRoom(request, pathname)));
  }

  /** Static assets, the dev cron trigger, main's onFetch, then 404 (PartyKit's order). */
  private async serveNonRoom(request: Party.Request, pathname: string): Promise<Response> {
    const assets = this.options.assets;
    const asset = await assets?.match(request, { isPartyPath: false });
    if (asset) return asset;
    const main = this.project.party("main")!.definition;
    if (this.options.dev && pathname === "/__scheduled__" && main.onCron) {
      const name = new URL(request.url).searchParams.get("cron") ?? "";
      const cron = this.options.crons[name] ?? "* * * * *";
      await this.project.runCron(name, cron, Date.now());
      return new Response(`ran cron ${name}: ${cron}`);
    }
    if (main.onFetch) {
      try {
        const response = await main.onFetch(request, this.project.fetchLobby(), this.project.executionContext());
        if (response instanceof Response) return response;
      } catch (error) {
        this.project.logger.log("error", "onFetch failed", describeError(error));
        return new Response(error instanceof Error ? error.message : String(error), { status: 500 });
      }
    }
    return (await assets?.notFound()) ?? new Response("Not found", { status: 404 });
  }

  private async serveUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    const protocol = (req.headers.upgrade ?? "").toLowerCase();
    if (isPeerUpgrade(protocol)) return this.servePeer(req, socket, head);
    if (protocol !== "websocket") {
      return rejectUpgrade(socket, new Response("Expected a WebSocket upgrade", { status: 400 }));
    }
    const target = requestTarget(req.url);
    if (target === null) return rejectUpgrade(socket, new Response("Bad Request", { status: 400 }));
    const pathname = target.pathname;
    const route = routeOf(pathname);
    const caller = callerOf(req.rawHeaders, this.project.secret);
    if (caller === "forged") return rejectUpgrade(socket, new Response("Forbidden", { status: 403 }));
    // Cross-site WebSockets are refused here, before onBeforeConnect (node-to-node and
    // room-to-room sockets have no Origin).
    const internal = caller === "stub" || caller === "peer";
    const refusal = this.inFlight.draining ? DRAINING : internal ? null : refusedOrigin(req, this.options.exposure);
    if (refusal !== null) return rejectUpgrade(socket, refusalResponse(refusal));
    const request = toWebRequest(req, { ...this.proxy, target });

    if (route.kind !== "room") {
      const onSocket = this.project.party("main")!.definition.onSocket;
      // Without onSocket the upgrade is an ordinary request to PartyKit: static assets, onFetch,
      // then 404 answer it (not upgraded).
      if (!onSocket) return this.answerUpgrade(req, socket, head, await this.serveNonRoom(request, pathname));
      const ws = await this.sockets.upgrade(req, socket, head);
      if (!ws) return;
      const fetchSocket = Object.assign(ws, { request }) as unknown as Party.FetchSocket;
      await onSocket(fetchSocket, this.project.fetchLobby(), this.project.executionContext());
      return;
    }

    const party = this.project.party(route.party);
    if (!party) return rejectUpgrade(socket, new Response(`Party ${route.party} not found`, { status: 404 }));
    const upgrade: UpgradeExchange = { req, socket, head };
    if (caller === "peer") return this.router.connect(route.party, route.room, peerRequest(req, false), upgrade, "peer");
    if (caller === "stub") return this.router.connect(route.party, route.room, internalRequest(req, request), upgrade, "stub");
    const hooked = await runHook(party.definition.onBeforeConnect, request, this.project.lobby(route.room), this.project.executionContext());
    if ("response" in hooked) return this.answerUpgrade(req, socket, head, hooked.response);
    await this.router.connect(route.party, route.room, hooked.request, upgrade, "client");
  }

  /** A peer node's link (cluster mode): the router checks and accepts it (src/cluster/link-accept.ts). */
  private servePeer(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> | void {
    const server = this.server;
    // Outside a cluster nobody may open a link.
    if (!this.router.acceptPeer || !server) return rejectUpgrade(socket, new Response("Forbidden", { status: 403 }));
    // node:http serves any Duplex emitted as a 'connection' (its documented way to inject one).
    return this.router.acceptPeer(req, socket, head, (connection) => server.emit("connection", connection));
  }

  /**
   * Answers an upgrade with a Response user code returned. A 101 with a `webSocket` connects
   * the client: to the room that socket belongs to (stub.fetch() of an upgrade: the client's
   * socket joins that room directly), or in place of a WebSocketPair end; anything else is
   * written as a plain HTTP response.
   */
  private async answerUpgrade(req: IncomingMessage, socket: Socket, head: Buffer, response: Response): Promise<void> {
    if (!isUpgradeResponse(response)) return rejectUpgrade(socket, response);
    const target = response.webSocket;
    if (target instanceof RemoteRoomHandle && target.claim()) {
      return this.router.connect(target.party, target.room, target.request, { req, socket, head }, "stub");
    }
    if (target instanceof RoomSocketHandle && target.claim()) {
      target.attached(await this.sockets.acceptRoomSocket(req, socket, head, target.room, target.record));
      return;
    }
    if (target instanceof LocalWebSocket && target.isAttachable) {
      const ws = await this.sockets.upgrade(req, socket, head);
      target.attach(ws);
      if (ws) {
        this.pairClients.add(ws);
        ws.once("close", () => this.pairClients.delete(ws));
      }
      return;
    }
    return rejectUpgrade(socket, new Response("This WebSocket was already returned to a client", { status: 500 }));
  }

  /** Closes the sockets served through WebSocketPair ends (rooms close their own). */
  closePairSockets(code: number, reason: string): void {
    for (const ws of this.pairClients) ws.close(code, reason);
    this.pairClients.clear();
  }

}

/** Counts a response that was sent in full ("finish" came before "close"); one cut off is not. */
function countFinished(responses: ResponseCounts, res: ServerResponse): void {
  if (res.writableFinished) responses.count(res.statusCode);
}

/** Answers a refused request at once; the connection closes after it (the body stays unread). */
function refuse(res: ServerResponse, refusal: Refusal): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.destroy();
    return;
  }
  res.writeHead(refusal.status, refusalHeaders(refusal));
  res.end(refusal.message);
}
