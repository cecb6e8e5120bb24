import { randomBytes } from "node:crypto";
import type * as Party from "../types/party.js";
import type { StorageService } from "../storage/contract.js";
import type { RoomRef } from "../storage/engine.js";
import { AlarmScheduler } from "./alarm-scheduler.js";
import { CronScheduler } from "./cron-scheduler.js";
import { Fanout } from "./fanout.js";
import { describeError, type Logger } from "./logger.js";
import { definePartyFromExport, type PartyDefinition } from "./party-definition.js";
import { RoomHost } from "./room-host.js";
import type { RoomServices } from "./room-services.js";
import { createParties, type StubTransport } from "./stubs.js";

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
  readonly secret = randomBytes(16).toString("hex");
  readonly alarms: AlarmScheduler;
  private readonly crons: CronScheduler;
  private readonly fanout: Fanout;
  private sweepTimer: NodeJS.Timeout | undefined;
  private partyNames: string[] = [];
  private readonly transport: StubTransport;
  private closed = false;

  constructor(private readonly options: ProjectOptions) {
    this.fanout = new Fanout(options.logger);
    this.alarms = new AlarmScheduler((room, time) => this.fireAlarm(room, time), options.logger, options.alarmRetryBaseMs);
    this.transport = {
      origin: options.origin,
      request: (party, roomId, request) => this.requestRoom(party, roomId, request),
      internalHeader: INTERNAL_HEADER,
      secret: this.secret,
    };
    this.crons = new CronScheduler(options.crons ?? {}, (name, cron, time) => this.runCron(name, cron, time), options.logger);
    this.load(options.parties);
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
    for (const { room, time } of await this.options.storage.listAlarms()) this.alarms.set(room, time);
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
    this.alarms.stop();
    this.crons.stop();
    await Promise.all(
      [...this.parties.values()].flatMap((party) => [...party.rooms.values()].map((room) => room.shutdown(code, reason))),
    );
    this.parties.clear();
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
      ai: unavailable("context.ai (Workers AI)"),
      parties: createParties(this.partyNames, this.transport),
      vectorize: {},
      analytics: { writeDataPoint() {} },
      assets: this.assetsBinding(),
      bindings: { r2: {}, kv: {} },
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
      context: () => ({
        parties: createParties(this.partyNames, this.transport),
        ai: unavailable("context.ai (Workers AI)"),
        vectorize: {},
        assets: this.assetsBinding(),
        bindings: { r2: {}, kv: {} },
      }),
      alarmChanged: (room, time) => this.alarms.set(room, time),
    };
  }

  private assetsBinding(): Party.AssetsBinding {
    return this.options.assets ?? { fetch: async () => null };
  }

  private async fireAlarm(ref: RoomRef, time: number): Promise<void> {
    const party = this.parties.get(ref.party);
    if (!party) return; // the party no longer exists in this code; its alarm stays stored
    await party.room(ref.room).alarm(time);
  }

  /** Hibernates idle hibernating rooms and forgets rooms that have no sockets and nothing to do. */
  private sweep(): void {
    const now = Date.now();
    const { hibernateAfterMs, evictAfterMs } = this.options;
    for (const party of this.parties.values()) {
      for (const [id, room] of party.rooms) {
        if (room.sockets.size === 0 && room.isIdleFor(evictAfterMs, now) && !this.alarms.isRunning(room.ref)) {
          party.rooms.delete(id);
          void room.shutdown(1001, "room evicted");
        } else if (room.hibernating && room.isResident && room.isIdleFor(hibernateAfterMs, now)) {
          void room.hibernate();
        }
      }
    }
  }
}

/** A stand-in for a Cloudflare-only binding: any use explains that it does not exist here. */
function unavailable(what: string): unknown {
  return new Proxy(
    {},
    {
      get(_target, property) {
        if (property === "then" || typeof property === "symbol") return undefined;
        throw new Error(`${what} is not available on partyhouse`);
      },
    },
  );
}
