import type * as Party from "../types/party.js";
import type { Logger } from "./logger.js";

/**
 * A party's export (a Party.Worker class or a legacy PartyKitServer object) normalized to one
 * shape, so the rest of the runtime never asks which API the user chose.
 */

type RoomHandlerName = "onStart" | "onConnect" | "onMessage" | "onClose" | "onError" | "onRequest" | "onAlarm" | "getConnectionTags";

/** One live server for one room, whichever API defined it. */
export interface ServerInstance {
  readonly hibernate: boolean;
  has(handler: RoomHandlerName): boolean;
  onStart(): unknown;
  onConnect(connection: Party.Connection, ctx: Party.ConnectionContext): unknown;
  onMessage(message: string | ArrayBuffer, sender: Party.Connection): unknown;
  onClose(connection: Party.Connection): unknown;
  onError(connection: Party.Connection, error: Error): unknown;
  onRequest(request: Party.Request): unknown;
  onAlarm(): unknown;
  getConnectionTags(connection: Party.Connection, ctx: Party.ConnectionContext): unknown;
}

type StaticHandler<A extends unknown[]> = ((...args: A) => unknown) | undefined;

export interface PartyDefinition {
  readonly name: string;
  readonly onBeforeConnect: StaticHandler<[Party.Request, Party.Lobby, Party.ExecutionContext]>;
  readonly onBeforeRequest: StaticHandler<[Party.Request, Party.Lobby, Party.ExecutionContext]>;
  readonly onFetch: StaticHandler<[Party.Request, Party.FetchLobby, Party.ExecutionContext]>;
  readonly onSocket: StaticHandler<[Party.FetchSocket, Party.FetchLobby, Party.ExecutionContext]>;
  readonly onCron: StaticHandler<[Party.Cron, Party.CronLobby, Party.ExecutionContext]>;
  /** Whether HTTP requests can reach rooms of this party at all ("No onRequest handler"). */
  readonly hasOnRequest: boolean;
  create(room: Party.Room): ServerInstance;
}

const ROOM_HANDLERS: RoomHandlerName[] = ["onStart", "onConnect", "onMessage", "onClose", "onError", "onRequest", "onAlarm", "getConnectionTags"];
const STATIC_HANDLERS = ["onBeforeConnect", "onBeforeRequest", "onFetch", "onSocket", "onCron"] as const;
const OBJECT_HANDLERS = [...ROOM_HANDLERS, ...STATIC_HANDLERS, "unstable_onFetch"] as const;

/** A class is a function whose prototype is an object (what PartyKit checks too). */
function isClass(value: unknown): value is Party.Worker {
  return typeof value === "function" && typeof (value as { prototype?: unknown }).prototype === "object";
}

export function definePartyFromExport(name: string, exported: unknown, logger: Logger): PartyDefinition {
  if (isClass(exported)) return defineFromClass(name, exported, logger);
  if (exported !== null && typeof exported === "object") return defineFromObject(name, exported as Party.PartyKitServer);
  throw new TypeError(
    `Party "${name}" must export default a Party.Server class or a PartyKitServer object, got ${exported === null ? "null" : typeof exported}`,
  );
}

function bindStatic<F>(owner: object, fn: unknown): F | undefined {
  return typeof fn === "function" ? (fn.bind(owner) as F) : undefined;
}

function defineFromClass(name: string, Worker: Party.Worker, logger: Logger): PartyDefinition {
  const proto = Worker.prototype as Record<string, unknown>;
  for (const handler of STATIC_HANDLERS) {
    if (typeof proto[handler] === "function") {
      logger.log("warn", `${handler} should be defined as a static method`, { party: name });
    }
  }
  return {
    name,
    onBeforeConnect: bindStatic(Worker, Worker.onBeforeConnect),
    onBeforeRequest: bindStatic(Worker, Worker.onBeforeRequest),
    onFetch: name === "main" ? bindStatic(Worker, Worker.onFetch) : undefined,
    onSocket: name === "main" ? bindStatic(Worker, Worker.onSocket) : undefined,
    onCron: name === "main" ? bindStatic(Worker, Worker.onCron) : undefined,
    hasOnRequest: typeof proto.onRequest === "function",
    create: (room) => new ClassServer(new Worker(room) as Party.Server & Record<string, unknown>),
  };
}

function defineFromObject(name: string, server: Party.PartyKitServer): PartyDefinition {
  const handlers = server as Record<string, unknown>;
  for (const handler of OBJECT_HANDLERS) {
    if (handler in handlers && typeof handlers[handler] !== "function") {
      throw new TypeError(`.${handler} should be a function`);
    }
  }
  // PartyKit's rule: an object server hibernates when it has onMessage or lacks onConnect.
  const hibernate = "onMessage" in server || !("onConnect" in server);
  const onFetch = server.onFetch ?? server.unstable_onFetch;
  return {
    name,
    onBeforeConnect: bindStatic(server, server.onBeforeConnect),
    onBeforeRequest: bindStatic(server, server.onBeforeRequest),
    onFetch: name === "main" ? bindStatic(server, onFetch) : undefined,
    onSocket: name === "main" ? bindStatic(server, server.onSocket) : undefined,
    onCron: name === "main" ? bindStatic(server, server.onCron) : undefined,
    hasOnRequest: typeof server.onRequest === "function",
    create: (room) => new ObjectServer(server, room, hibernate),
  };
}

/**
 * A class-API instance. Methods live on the prototype (no closures per instance): rooms are
 * created and woken often enough that per-instance allocations show in profiles.
 */
class ClassServer implements ServerInstance {
  readonly hibernate: boolean;

  constructor(private readonly server: Party.Server & Record<string, unknown>) {
    this.hibernate = server.options?.hibernate === true;
  }

  has(handler: RoomHandlerName): boolean {
    return typeof this.server[handler] === "function";
  }
  onStart(): unknown {
    return this.call("onStart");
  }
  onConnect(connection: Party.Connection, ctx: Party.ConnectionContext): unknown {
    return this.call("onConnect", connection, ctx);
  }
  onMessage(message: string | ArrayBuffer, sender: Party.Connection): unknown {
    return this.call("onMessage", message, sender);
  }
  onClose(connection: Party.Connection): unknown {
    return this.call("onClose", connection);
  }
  onError(connection: Party.Connection, error: Error): unknown {
    return this.call("onError", connection, error);
  }
  onRequest(request: Party.Request): unknown {
    return this.call("onRequest", request);
  }
  onAlarm(): unknown {
    return this.call("onAlarm");
  }
  getConnectionTags(connection: Party.Connection, ctx: Party.ConnectionContext): unknown {
    return this.call("getConnectionTags", connection, ctx);
  }

  private call(handler: RoomHandlerName, ...args: unknown[]): unknown {
    const fn = this.server[handler];
    return typeof fn === "function" ? (fn as (...a: unknown[]) => unknown).apply(this.server, args) : undefined;
  }
}

/** A legacy object server: the same object for every room, with the room as an argument. */
class ObjectServer implements ServerInstance {
  constructor(
    private readonly server: Party.PartyKitServer,
    private readonly room: Party.Room,
    readonly hibernate: boolean,
  ) {}

  has(handler: RoomHandlerName): boolean {
    return typeof (this.server as Record<string, unknown>)[handler] === "function";
  }
  onStart(): unknown {
    return undefined;
  }
  onConnect(connection: Party.Connection, ctx: Party.ConnectionContext): unknown {
    return this.server.onConnect?.(connection, this.room, ctx);
  }
  onMessage(message: string | ArrayBuffer, sender: Party.Connection): unknown {
    return this.server.onMessage?.(message, sender, this.room);
  }
  onClose(connection: Party.Connection): unknown {
    return this.server.onClose?.(connection, this.room);
  }
  onError(connection: Party.Connection, error: Error): unknown {
    return this.server.onError?.(connection, error, this.room);
  }
  onRequest(request: Party.Request): unknown {
    return this.server.onRequest?.(request, this.room);
  }
  onAlarm(): unknown {
    return this.server.onAlarm?.(this.room);
  }
  getConnectionTags(): unknown {
    return [];
  }
}
