import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { Duplex } from "node:stream";
import { prettyLogger, describeError, type Logger } from "../runtime/logger.js";
import { Project, type ProjectStats } from "../runtime/project.js";
import { SingleProcessPlacement } from "../runtime/single-process-placement.js";
import { holdFetchesFor, releaseFetchesFrom } from "../globals/outgoing-fetch.js";
import { HandedInConnections, type ConnectionObserver } from "./accept-connection.js";
import { FrontDoor } from "./front-door.js";
import { LocalRooms } from "./local-rooms.js";
import { LocalRouter } from "./room-router.js";
import { WebSocketAcceptor } from "./room-websockets.js";
import { DEFAULT_DRAIN_MS } from "./in-flight.js";
import { resolveExposure } from "./limits.js";
import type { PartyExports, PartyhouseOptions, StartedSideListener } from "./options.js";

export type { PartyExports, PartyhouseOptions, StaticAssetsOptions } from "./options.js";

export const DEFAULT_PORT = 1999;
export const DEFAULT_HIBERNATE_AFTER_MS = 5_000;
/**
 * A room without sockets is forgotten this long after its last event (storage and alarms stay).
 * An idle room costs about 1 KB, so this bounds memory at about 15 KB per new-room-per-second.
 */
export const DEFAULT_EVICT_AFTER_MS = 15_000;

export interface RunningPartyhouse {
  /** `http://host:port` of the listening server. */
  readonly url: string;
  readonly port: number;
  /** `http://host:port` of the admin listener, when one was asked for. */
  readonly adminUrl: string | undefined;
  /** Rooms, resident instances and sockets right now. */
  stats(): ProjectStats;
  /** Swap in new party code (dev rebuild): sockets close with 1012, storage is kept. */
  reload(parties: PartyExports): Promise<void>;
  /**
   * Serves a connection accepted elsewhere (a worker gets its clients' sockets from the
   * supervisor, src/workers), as if it had arrived on the listener. Bytes already read from it
   * must have been put back first (`socket.unshift`). The observer, if any, hears when requests
   * on it start and end, and when it becomes a WebSocket.
   */
  accept(socket: Socket, observer?: ConnectionObserver): void;
  /**
   * Stop listening, close every socket with 1012, and flush storage. In cluster mode rooms are
   * first handed back one by one (drain) so other nodes can claim them.
   */
  close(): Promise<void>;
}

/** Thrown when the port is taken, so the CLI can say so in one line. */
export class PortInUseError extends Error {
  constructor(readonly host: string, readonly port: number) {
    super(`port ${port} on ${host} is already in use (choose another with --port)`);
    this.name = "PortInUseError";
  }
}

/** Starts a partyhouse server for the given parties. */
export async function startPartyhouse(options: PartyhouseOptions & { dev?: boolean }): Promise<RunningPartyhouse> {
  const logger = options.logger ?? prettyLogger();
  const host = options.host ?? "127.0.0.1";
  keepProcessAliveOnUserErrors(logger);
  let origin = `${host}:${options.port ?? DEFAULT_PORT}`;
  const assets = options.assets ? new (await import("./static-assets.js")).StaticAssets(options.assets) : undefined;
  const project = new Project({
    parties: options.parties,
    env: options.env ?? {},
    storage: options.storage,
    logger,
    assets: assets && { fetch: (path) => assets.fetch(path) },
    hibernateAfterMs: options.hibernateAfterMs ?? DEFAULT_HIBERNATE_AFTER_MS,
    evictAfterMs: options.evictAfterMs ?? DEFAULT_EVICT_AFTER_MS,
    origin: () => origin,
    ...(options.alarmRetryBaseMs !== undefined ? { alarmRetryBaseMs: options.alarmRetryBaseMs } : {}),
    crons: options.crons ?? {},
    placement: options.cluster?.placement ?? new SingleProcessPlacement(),
  });
  // A bundle's fetch() is output too: it leaves once the writes made before it are durable.
  holdFetchesFor(options.storage);
  const cluster = options.cluster;
  // The path to a room, by name: FrontDoor → router (LocalRouter, or ClusterRouter in a cluster) → LocalRooms → Project.
  const sockets = new WebSocketAcceptor();
  const local = new LocalRooms(project, sockets);
  const router = cluster ? cluster.router(local, logger) : new LocalRouter(local);
  // Room-to-room stubs and alarms ask the same router where a room lives.
  project.routeThrough(router);
  const door = new FrontDoor(project, router, sockets, {
    assets,
    dev: options.dev ?? false,
    lazyRequests: options.lazyRequests ?? false,
    crons: options.crons ?? {},
    exposure: resolveExposure(options),
  });
  const server = createServer({ keepAliveTimeout: KEEP_ALIVE_MS });
  door.attach(server);
  const handedIn = new HandedInConnections(server);
  // A worker being replaced lets its kept-alive connections end by themselves (close(), below).
  const connections = options.cluster?.handBackBeforeRefusing ? new OpenConnections(server) : undefined;
  server.on("clientError", (_error, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n");
    else socket.destroy();
  });

  await project.start();
  await listen(server, host, options.port ?? DEFAULT_PORT);
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  origin = `${urlHost === "0.0.0.0" || urlHost === "[::]" ? "127.0.0.1" : urlHost}:${port}`;
  let admin: StartedSideListener | undefined;
  if (options.admin) {
    try {
      admin = await options.admin.start({ project, storage: options.storage, logger });
    } catch (error) {
      await project.close();
      server.close();
      server.closeAllConnections();
      throw error;
    }
  }

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    adminUrl: admin?.url,
    stats: () => project.stats(),
    reload: (parties) => project.reload(parties),
    accept: (socket, observer) => handedIn.accept(socket, observer),
    close() {
      closing ??= (async () => {
        // The admin listener stays up to the end, answering /readyz with 503 meanwhile.
        admin?.drain();
        // Stop accepting, let requests in flight finish (new ones get 503 + Retry-After), then
        // hand rooms back (cluster) and close them: no event reaches user code after that, and
        // no instance is built.
        let stopped: Promise<void>;
        if (options.cluster?.handBackBeforeRefusing) {
          // Headers are still unwritten when a request arrives: set before the front door answers.
          server.prependListener("request", (_req, res) => res.setHeader("connection", "close"));
          door.inFlight.closeConnectionsAfterAnswers();
          await router.drain();
          // Closing an idle kept-alive connection resets a request its client is sending at that
          // moment. So requests on them are still served (forwarded to the rooms' new owners),
          // each answered with `connection: close`, and an idle one ends at the keep-alive timeout
          // the server announced (`Keep-Alive: timeout=5`), which clients plan their reuse by.
          await connections!.ended(KEEP_ALIVE_MS + 1_000);
          stopped = new Promise<void>((resolve) => server.close(() => resolve()));
          await door.inFlight.drain(options.drainTimeoutMs ?? DEFAULT_DRAIN_MS);
        } else {
          stopped = new Promise<void>((resolve) => server.close(() => resolve()));
          await door.inFlight.drain(options.drainTimeoutMs ?? DEFAULT_DRAIN_MS);
          await router.drain();
        }
        await project.close();
        door.closePairSockets(1012, "server restart");
        server.closeAllConnections();
        await stopped;
        releaseFetchesFrom(options.storage);
        await options.storage.close();
        await admin?.close();
      })();
      return closing;
    },
  };
}

/** How long an idle kept-alive connection stays open (announced to clients in `Keep-Alive`). */
export const KEEP_ALIVE_MS = 5_000;

/** The server's open client connections, including those handed in with `emit("connection")`. */
class OpenConnections {
  private readonly open = new Set<Duplex>();
  private allEnded: (() => void) | undefined;

  constructor(server: Server) {
    server.on("connection", (socket: Duplex) => {
      this.open.add(socket);
      socket.once("close", () => {
        this.open.delete(socket);
        if (this.open.size === 0) this.allEnded?.();
      });
    });
  }

  /** Resolves once every connection has closed, or after `timeoutMs`. */
  async ended(timeoutMs: number): Promise<void> {
    if (this.open.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.allEnded = resolve;
      timer = setTimeout(resolve, timeoutMs);
    });
    clearTimeout(timer);
    this.allEnded = undefined;
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      reject(error.code === "EADDRINUSE" ? new PortInUseError(host, port) : error);
    };
    const onListening = () => {
      server.off("error", onError);
      resolve();
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen(port, host);
  });
}

let guarded = false;
/**
 * User code runs in this process; an exception it leaves uncaught (in a timer, an un-awaited
 * promise) is logged instead of ending the process and every other room with it.
 */
function keepProcessAliveOnUserErrors(logger: Logger): void {
  if (guarded) return;
  guarded = true;
  process.on("unhandledRejection", (reason) => logger.log("error", "unhandled rejection", describeError(reason)));
  process.on("uncaughtException", (error) => logger.log("error", "uncaught exception", describeError(error)));
}
