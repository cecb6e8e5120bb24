/**
 * How a partyhouse server is started: by the CLI after loading config and bundling, by the
 * test helpers, or by a program embedding partyhouse.
 */
import type { StorageService } from "../storage/contract.js";
import type { Logger } from "../runtime/logger.js";
import type { Project } from "../runtime/project.js";
import type { HeldRooms, LocalDelivery, RoomRouter } from "./room-router.js";
import type { Placement } from "../runtime/placement.js";
import type { ExposureOptions } from "./limits.js";

/** The module exports of each party: a Party.Worker class or a legacy object, keyed by name. */
export type PartyExports = Record<string, unknown>;

export interface StaticAssetsOptions {
  /** Absolute path of the folder to serve. */
  root: string;
  singlePageApp?: boolean;
  browserTTL?: number | null;
  edgeTTL?: number | null;
}

export interface PartyhouseOptions extends ExposureOptions {
  /** Party name to its export; must contain "main". */
  parties: PartyExports;
  /** `room.env` / `lobby.env` (vars with their JSON types). */
  env?: Record<string, unknown>;
  /** Where rooms keep their data. */
  storage: StorageService;
  /** Static assets (`serve`), if any. */
  assets?: StaticAssetsOptions;
  /** Bind address; default 127.0.0.1. */
  host?: string;
  /** Port; 0 picks a free one. Default 1999. */
  port?: number;
  /** `crons` from partykit.json: name to cron expression. */
  crons?: Record<string, string>;
  /** Idle time before a hibernating room drops its instance. Default 5 s. */
  hibernateAfterMs?: number;
  /** Idle time (no sockets, no events) before any room is evicted from memory. Default 15 s. */
  evictAfterMs?: number;
  logger?: Logger;
  /** How long a shutdown waits for HTTP requests in flight before answering them 503. Default 5 s. */
  drainTimeoutMs?: number;
  /** First retry delay of a throwing onAlarm, doubling up to 6 retries. Default 2 s (Cloudflare's). */
  alarmRetryBaseMs?: number;
  /** Cluster mode: several nodes, one live instance per room. Absent: every room is in this process. */
  cluster?: ClusterServerOptions;
  /**
   * A listener beside the rooms (the admin listener of src/admin: health, metrics, API,
   * inspector), started once the server listens. The CLI and the test helpers wire it; server/
   * knows only this interface.
   */
  admin?: SideListener;
  /**
   * Hand parties a LazyRequest (src/server/lazy-request.ts) for requests without a body. Only
   * for parties bundled by partyhouse, whose `Request` and `fetch` accept one (src/build/web-globals.ts);
   * code that calls the process's own `Request` or `fetch` with one gets undici's TypeError.
   * Default false: a plain undici Request, as the testing API's in-process classes need.
   */
  lazyRequests?: boolean;
}

/** What a side listener is given: the project it reports on, its storage, the logger. */
export interface SideListenerContext {
  readonly project: Project;
  readonly storage: StorageService;
  readonly logger: Logger;
}

export interface SideListener {
  start(context: SideListenerContext): Promise<StartedSideListener>;
}

export interface StartedSideListener {
  readonly url: string;
  /** The server is closing (a readiness probe should say so); it stays up to the end. */
  drain(): void;
  close(): Promise<void>;
}

export interface ClusterServerOptions {
  /**
   * Which node runs each room (its secret authenticates node-to-node and room-to-room calls): a
   * room is claimed before its instance is built, released after eviction, dropped when lost.
   */
  placement: Placement;
  /** Builds the router that asks the placement where a room lives and forwards to its owner. */
  router(local: LocalDelivery & HeldRooms, logger: Logger): RoomRouter;
  /**
   * On close, hand the rooms back before refusing anything (a worker replaced in a reload,
   * src/workers): the server keeps answering while its rooms go one by one, a request for a
   * room already handed back is forwarded to its new owner, and responses from then on carry
   * `connection: close` so clients open their next connection elsewhere. Default false: requests
   * in flight finish first and new ones get 503, then the rooms are handed back.
   */
  handBackBeforeRefusing?: boolean;
}
