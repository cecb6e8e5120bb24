import { randomUUID } from "node:crypto";
import type * as Party from "../types/party.js";
import type { StorageService } from "../storage/contract.js";
import type { RoomRef } from "../storage/engine.js";
import { HandlerErrorReporter } from "./error-reporter.js";
import { RuntimeCounters } from "../metrics/counters.js";
import { AlarmScheduler } from "./alarm-scheduler.js";
import { CronScheduler } from "./cron-scheduler.js";
import { Fanout } from "./fanout.js";
import { describeError, type Logger } from "./logger.js";
import type { AlarmSource, Placement } from "./placement.js";
import { definePartyFromExport, type PartyDefinition } from "./party-definition.js";
import { RoomHost } from "./room-host.js";
import { deleteRoomStorage, type DeleteOutcome } from "./room-deletion.js";
import type { RoomServices } from "./room-services.js";
import { WebSocketUpgradeResponse } from "./websocket-response.js";
import { RemoteRoomHandle } from "./remote-room-handle.js";
import { RoomSocketHandle } from "./room-socket-handle.js";
import { createParties, type StubTransport } from "./stubs.js";
import { isTransient } from "./transient.js";
import { unavailableBinding, unavailableBindings } from "./unavailable.js";

/** What a project needs from the world around it. */
export interface ProjectOptions {
  parties: Record<string, unknown>;
  env: Record<string, unknown>;
  storage: StorageService;
  logger: Logger;
  /** `context.assets` (static files), if the project serves any. */
  assets: Party.AssetsBinding | undefined;
  hibernateAfterMs: number;
  evictAfterMs: number;
  /** `host:port` the server listens on, for room-to-room URLs. */
  origin: () => string;
  /** Retry base for throwing alarms (tests shorten it). */
  alarmRetryBaseMs?: number;
  /** `partykit.json#crons`: name to cron expression, run on main's onCron. */
  crons?: Record<string, string>;
  /**
   * Which node runs each room: a room is claimed before an instance is built (acquire), released
   * after eviction, dropped when lost; its secret authenticates room-to-room calls.
   */
  placement: Placement;
}

/**
 * Where rooms live (the server's RoomRouter: this process, or in a cluster possibly another
 * node). `stub.fetch()` goes through `fetch`; an alarm fires only where `isLocal` says so (the
 * owner's scheduler fires it otherwise).
 */
export interface ProjectRouting {
  fetch(party: string, room: string, request: Request): Promise<Response>;
  isLocal(party: string, room: string): Promise<boolean>;
}

export interface ProjectStats {
  /** Rooms the process knows about (with sockets, or recently active). */
  readonly rooms: number;
  /** Rooms whose server instance is in memory (not hibernated). */
  readonly resident: number;
  readonly sockets: number;
  /** Events waiting at rooms' input gates, over all rooms (bounded by inbound backpressure). */
  readonly pendingEvents: number;
}

export const INTERNAL_HEADER = "x-partyhouse-internal";

/** One party: its definition and its live rooms. */
export class PartyRooms {
  readonly rooms = new Map<string, RoomHost>();

  constructor(
    readonly name: string,
    public definition: PartyDefinition,
    private readonly services: RoomServices,
  ) {}

  /** The room with this id, created on first use. */
  room(id: string): RoomHost {
    let room = this.rooms.get(id);
    if (!room) {
      room = new RoomHost(id, this.services);
      this.rooms.set(id, room);
    }
    return room;
  }
}

/**
 * Every party of a project and the process-wide machinery they share: the alarm scheduler,
 * the broadcast writer, eviction and hibernation sweeps, and room-to-room stubs.
 */
export class Project {
  readonly parties = new Map<string, PartyRooms>();
  readonly secret: string;
  /** Set by the server once its router exists (`routeThrough`; the router delivers here through requestRoom). */
  private routing: ProjectRouting | undefined;
  readonly alarms: AlarmScheduler;
  /** Event counts per party for metrics; they outlive dev reloads. */
  readonly counters = new RuntimeCounters();
  private readonly errors: HandlerErrorReporter;
  private readonly crons: CronScheduler;
  private readonly fanout: Fanout;
  private sweepTimer: NodeJS.Timeout | undefined;
  private partyNames: string[] = [];
  private readonly transport: StubTransport;
  private readonly placement: Placement;
  private alarmPollTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: ProjectOptions) {
    this.placement = options.placement;
    this.secret = options.placement.secret;
    this.fanout = new Fanout(options.logger);
    this.errors = new HandlerErrorReporter(options.logger, this.counters);
    this.alarms = new AlarmScheduler(
      (room, time, retry) => this.fireAlarm(room, time, retry),
      options.logger,
      options.alarmRetryBaseMs,
    );
    this.transport = {
      origin: options.origin,
      request: (party, roomId, request) =>
        this.router().fetch(party, roomId, request),
      connect: async (party, roomId, request) => {
        // A room another node owns is connected when the Response reaches a client.
        if (!(await this.router().isLocal(party, roomId))) {
          return new WebSocketUpgradeResponse(new RemoteRoomHandle(party, roomId, request as Party.Request));
        }
        return this.connectRoom(party, roomId, request);
      },
      internalHeader: INTERNAL_HEADER,
      secret: this.secret,
    };
    this.crons = new CronScheduler(options.crons ?? {}, (name, cron, time) => this.runCron(name, cron, time), options.logger);
    this.placement.onLost((room) => this.roomLost(room));
    this.load(options.parties);
  }

  /** Room-to-room stubs and alarms ask this router where a room lives; set once, before `start`. */
  routeThrough(routing: ProjectRouting): void {
    this.routing = routing;
  }

  private router(): ProjectRouting {
    if (this.routing === undefined) throw new Error("the project has no router yet (the server sets it before starting)");
    return this.routing;
  }

  get logger(): Logger {
    return this.options.logger;
  }

  get env(): Record<string, unknown> {
    return this.options.env;
  }

  party(name: string): PartyRooms | undefined {
    return this.parties.get(name);
  }

  /** Loads stored alarms and starts the hibernation/eviction sweep. */
  async start(): Promise<void> {
    const source = this.placement.alarms;
    if (source.kind === "poll") {
      // Cluster: the database holds every node's alarms; ask for the due ones this node should fire.
      this.alarmPollTimer = setInterval(() => void this.pollAlarms(source), source.everyMs);
      this.alarmPollTimer.unref();
    } else {
      for (const { room, time } of await this.options.storage.listAlarms()) this.alarms.set(room, time);
    }
    const interval = Math.max(10, Math.min(1000, this.options.hibernateAfterMs / 2, this.options.evictAfterMs / 2));
    this.sweepTimer = setInterval(() => this.sweep(), interval);
    this.sweepTimer.unref();
    this.crons.start();
  }

  /** Runs main's onCron for one cron (on schedule, or by hand in dev). */
  async runCron(name: string, cron: string, scheduledTime: number): Promise<void> {
    const onCron = this.parties.get("main")?.definition.onCron;
    if (!onCron) return;
    await onCron({ name, cron, scheduledTime, noRetry() {} }, this.fetchLobby(), this.executionContext());
  }

  /** The `ctx` of static handlers: waitUntil promises are logged if they fail. */
  executionContext(): Party.ExecutionContext {
    return {
      waitUntil: (promise) => {
        Promise.resolve(promise).catch((error) => this.logger.log("error", "waitUntil promise failed", describeError(error)));
      },
      passThroughOnException() {},
    };
  }

  /**
   * Swaps in new code (dev rebuild). Every room closes its sockets with 1012 so clients
   * reconnect to the new code; storage is kept.
   */
  async reload(parties: Record<string, unknown>): Promise<void> {
    const previous = [...this.parties.values()];
    this.load(parties);
    await Promise.all(previous.flatMap((party) => [...party.rooms.values()].map((room) => room.shutdown(1012, "code reloaded"))));
  }

  async close(code = 1012, reason = "server restart"): Promise<void> {
    this.closed = true;
    clearInterval(this.sweepTimer);
    clearInterval(this.alarmPollTimer);
    this.alarms.stop();
    this.crons.stop();
    await Promise.all(
      [...this.parties.values()].flatMap((party) => [...party.rooms.values()].map((room) => room.shutdown(code, reason))),
    );
    this.parties.clear();
  }

  /** The rooms this process holds now (drain walks them one by one). */
  roomRefs(): RoomRef[] {
    const refs: RoomRef[] = [];
    for (const [name, party] of this.parties) for (const id of party.rooms.keys()) refs.push({ party: name, room: id });
    return refs;
  }

  /**
   * Forgets one room: its sockets close with `code`, its instance is dropped, its storage is
   * flushed and closed. Storage and alarms stay stored (drain, or a room lost to another node).
   */
  async dropRoom(partyName: string, roomId: string, code: number, reason: string): Promise<void> {
    const party = this.parties.get(partyName);
    const room = party?.rooms.get(roomId);
    if (!party || !room) return;
    party.rooms.delete(roomId);
    await room.shutdown(code, reason);
  }

  /**
   * Deletes a room's keys and alarm (the admin API). Refused while the room is live here unless
   * `force`, which drops it first (sockets close with 1012): see room-deletion.ts.
   */
  deleteRoomStorage(partyName: string, roomId: string, force: boolean): Promise<DeleteOutcome> {
    const live = (ref: RoomRef) => this.parties.get(ref.party)?.rooms.get(ref.room);
    return deleteRoomStorage(
      {
        storage: this.options.storage,
        placement: this.placement,
        liveSockets: (ref) => live(ref)?.sockets.size,
        drop: (ref) => this.dropRoom(ref.party, ref.room, 1012, "room storage deleted"),
        alarmChanged: (ref, time) => this.alarms.set(ref, time),
      },
      { party: partyName, room: roomId },
      force,
    );
  }

  /**
   * Whether the room could move to another node now without cutting anything off: nothing
   * running, waiting or unwritten, and either no socket ("empty") or only sockets of a
   * hibernated instance ("hibernated", which the move closes with 1012); undefined otherwise.
   */
  quietState(partyName: string, roomId: string): "empty" | "hibernated" | undefined {
    const room = this.parties.get(partyName)?.rooms.get(roomId);
    if (room === undefined || room.isClosed || !room.isIdleFor(0, Date.now())) return undefined;
    if (room.sockets.size === 0) return "empty";
    return room.hibernating && !room.isResident ? "hibernated" : undefined;
  }

  /** Counts for metrics and tests: rooms in memory, rooms with a live instance, open sockets. */
  stats(): ProjectStats {
    let rooms = 0;
    let resident = 0;
    let sockets = 0;
    let pendingEvents = 0;
    for (const party of this.parties.values()) {
      for (const room of party.rooms.values()) {
        rooms++;
        if (room.isResident) resident++;
        sockets += room.sockets.size;
        pendingEvents += room.pendingEvents;
      }
    }
    return { rooms, resident, sockets, pendingEvents };
  }

  /** The lobby given to onBeforeConnect / onBeforeRequest. */
  lobby(roomId: string): Party.Lobby {
    return { id: roomId, ...this.fetchLobby() };
  }

  /** The lobby given to onFetch, onSocket and onCron (no room id). */
  fetchLobby(): Party.FetchLobby {
    return {
      env: this.options.env,
      parties: createParties(this.partyNames, this.transport),
      ...cloudflareOnlyBindings(),
      analytics: { writeDataPoint() {} },
      assets: this.assetsBinding(),
    };
  }

  /** Sends a request to a room's onRequest, as a stub or the front door does after onBeforeRequest. */
  requestRoom(partyName: string, roomId: string, request: Request): Promise<Response> {
    if (this.closed) {
      return Promise.resolve(new Response("Server is shutting down; retry shortly", { status: 503, headers: { "retry-after": "1" } }));
    }
    const party = this.parties.get(partyName);
    if (!party) return Promise.resolve(new Response(`Party ${partyName} not found`, { status: 404 }));
    if (!party.definition.hasOnRequest) return Promise.resolve(new Response("No onRequest handler", { status: 500 }));
    return party.room(roomId).request(request);
  }

  /**
   * A WebSocket upgrade sent to a room by `stub.fetch()`: the room runs its connect steps
   * (tags, onConnect) and answers 101 with a handle to the waiting socket; whoever returns
   * that Response to a client connects the client to the room (src/runtime/room-socket-handle.ts).
   */
  connectRoom(partyName: string, roomId: string, request: Request): Promise<Response> {
    const party = this.parties.get(partyName);
    if (!party) return Promise.resolve(new Response(`Party ${partyName} not found`, { status: 404 }));
    const id = new URL(request.url).searchParams.get("_pk") || randomUUID();
    const room = party.room(roomId);
    return new Promise((resolve, reject) => {
      room
        .connect(request as Party.Request, id, (record) => {
          const handle = new RoomSocketHandle(room, record);
          resolve(new WebSocketUpgradeResponse(handle));
          return handle.accepted;
        })
        .catch(reject);
    });
  }

  private load(exports: Record<string, unknown>): void {
    if (!("main" in exports)) throw new Error('The project has no "main" party');
    this.parties.clear();
    this.partyNames = Object.keys(exports);
    for (const [name, exported] of Object.entries(exports)) {
      const definition = definePartyFromExport(name, exported, this.options.logger);
      const party: PartyRooms = new PartyRooms(name, definition, this.servicesFor(name, () => party.definition));
      this.parties.set(name, party);
    }
  }

  private servicesFor(partyName: string, definition: () => PartyDefinition): RoomServices {
    return {
      partyName,
      definition,
      storage: this.options.storage,
      env: this.options.env,
      logger: this.options.logger,
      fanout: this.fanout,
      context: (room) => ({
        parties: createParties(this.partyNames, this.transport, room),
        ...cloudflareOnlyBindings(),
        assets: this.assetsBinding(),
      }),
      alarmChanged: (room, time) => this.alarms.set(room, time),
      counters: this.counters.party(partyName),
      errors: this.errors,
      roomStarted: (seconds, woke) => this.counters.onRoomStart?.(partyName, seconds, woke),
      placement: this.placement,
    };
  }

  private assetsBinding(): Party.AssetsBinding {
    return this.options.assets ?? { fetch: async () => null };
  }

  private async fireAlarm(ref: RoomRef, time: number, retry: number): Promise<void> {
    const party = this.parties.get(ref.party);
    if (!party) return; // the party no longer exists in this code; its alarm stays stored
    // The router says whether the room runs here (always, in one process; in a cluster it waits
    // for a hand-back of the room in progress, so a draining node does not build it again); the
    // owner's own poll fires it otherwise. On PostgreSQL the build still claims first (acquire): a room a live node
    // took meanwhile refuses with RoomMovedError, and that node fires it.
    if (!(await this.router().isLocal(ref.party, ref.room))) return;
    const counters = this.counters.party(ref.party);
    counters.alarmsFired++;
    if (retry > 0) counters.alarmsRetried++;
    try {
      await party.room(ref.room).alarm(time);
    } catch (error) {
      // Another node owns the room (it fires the alarm), or this one cannot serve it for now
      // (not live, storage out of reach, fenced): not a failure; the alarm stays stored.
      if (isTransient(error)) return;
      // The scheduler logs it (once per retry, which is bounded); here it is only counted.
      counters.countError("onAlarm");
      throw error;
    }
  }

  /** Due alarms from the cluster database: this node's rooms' and orphaned rooms'. */
  private async pollAlarms(source: Extract<AlarmSource, { kind: "poll" }>): Promise<void> {
    try {
      for (const { room, time } of await source.due()) {
        if (!this.alarms.isRunning(room)) this.alarms.set(room, time);
      }
    } catch (error) {
      this.logger.log("warn", "polling due alarms failed", describeError(error));
    }
  }

  /** The cluster says another node owns the room now: drop it here, sockets close with 1012. */
  private roomLost(ref: RoomRef): void {
    const party = this.parties.get(ref.party);
    const room = party?.rooms.get(ref.room);
    if (!party || !room) return;
    party.rooms.delete(ref.room);
    void room.shutdown(1012, "room moved");
  }

  /**
   * Evicted: after its storage is flushed, the room is released for any node to claim. Until
   * then a new instance here waits (placement's acquire), so it never runs while the release is
   * in flight.
   */
  private evicted(room: RoomHost): void {
    this.placement
      .release(room.ref, room.shutdown(1001, "room evicted"))
      .catch((error: unknown) => this.logger.log("warn", "releasing an evicted room failed", describeError(error)));
  }

  /** Hibernates idle hibernating rooms and forgets rooms that have no sockets and nothing to do. */
  private sweep(): void {
    const now = Date.now();
    const { hibernateAfterMs, evictAfterMs } = this.options;
    for (const party of this.parties.values()) {
      for (const [id, room] of party.rooms) {
        if (room.sockets.size === 0 && room.isIdleFor(evictAfterMs, now) && !this.alarms.isRunning(room.ref)) {
          party.rooms.delete(id);
          this.evicted(room);
        } else if (room.hibernating && room.isResident && room.isIdleFor(hibernateAfterMs, now)) {
          void room.hibernate();
        }
      }
    }
  }
}

/** `ai`, `vectorize` and R2/KV `bindings`: readable (libraries touch them early), failing when called. */
function cloudflareOnlyBindings(): Pick<Party.Context, "ai" | "vectorize" | "bindings"> {
  return {
    ai: unavailableBinding("context.ai (Workers AI)", "context.ai") as Party.AI,
    vectorize: unavailableBindings("Vectorize", "context.vectorize"),
    bindings: {
      r2: unavailableBindings("R2 bindings", "context.bindings.r2"),
      kv: unavailableBindings("KV bindings", "context.bindings.kv"),
    },
  };
}
