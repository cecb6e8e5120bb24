/**
 * The public `Party` types: what `import type * as Party from "partyhouse/server"` (or
 * `"partykit/server"`) gives user code. Types only; the runtime implements them elsewhere.
 * Shapes follow PartyKit's documented API so that existing projects type-check unchanged.
 */

/**
 * Geo and connection facts about a request. partyhouse fills what it knows (never guessed):
 * the geo fields only from a trusted proxy's headers (`trustProxy`, `proxyGeoHeaders`).
 */
export interface RequestCf {
  country?: string;
  city?: string;
  continent?: string;
  colo?: string;
  asn?: number;
  latitude?: string;
  longitude?: string;
  timezone?: string;
  region?: string;
  regionCode?: string;
  metroCode?: string;
  postalCode?: string;
  httpProtocol?: string;
  tlsVersion?: string;
  [key: string]: unknown;
}

/**
 * A standard Request plus what Cloudflare's adds: the `cf` object, and a `json<T>()` that names
 * the type it parses to (PartyKit projects write `await req.json<Body>()`).
 */
export type Request = globalThis.Request & { cf?: RequestCf; json<T>(): Promise<T> };

/** The Workers AI binding, opaque as PartyKit types it: pass it to `new Ai(room.context.ai)` (partykit-ai). */
export type AI = Record<string, never>;

export interface ExecutionContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException(): void;
}

export interface StorageGetOptions {
  allowConcurrency?: boolean;
  noCache?: boolean;
}
export interface StoragePutOptions {
  allowConcurrency?: boolean;
  allowUnconfirmed?: boolean;
  noCache?: boolean;
}
export interface StorageListOptions {
  start?: string;
  startAfter?: string;
  end?: string;
  prefix?: string;
  reverse?: boolean;
  limit?: number;
  allowConcurrency?: boolean;
  noCache?: boolean;
}
export interface StorageGetAlarmOptions {
  allowConcurrency?: boolean;
}
export interface StorageSetAlarmOptions {
  allowConcurrency?: boolean;
  allowUnconfirmed?: boolean;
}

/** Operations available inside `storage.transaction()`. */
export interface StorageTransaction {
  get<T = unknown>(key: string, options?: StorageGetOptions): Promise<T | undefined>;
  get<T = unknown>(keys: string[], options?: StorageGetOptions): Promise<Map<string, T>>;
  list<T = unknown>(options?: StorageListOptions): Promise<Map<string, T>>;
  put<T>(key: string, value: T, options?: StoragePutOptions): Promise<void>;
  put<T>(entries: Record<string, T>, options?: StoragePutOptions): Promise<void>;
  delete(key: string, options?: StoragePutOptions): Promise<boolean>;
  delete(keys: string[], options?: StoragePutOptions): Promise<number>;
  rollback(): void;
  getAlarm(options?: StorageGetAlarmOptions): Promise<number | null>;
  setAlarm(scheduledTime: number | Date, options?: StorageSetAlarmOptions): Promise<void>;
  deleteAlarm(options?: StorageSetAlarmOptions): Promise<void>;
}

/** A room's durable key-value storage (Durable Object KV semantics). */
export interface Storage {
  get<T = unknown>(key: string, options?: StorageGetOptions): Promise<T | undefined>;
  get<T = unknown>(keys: string[], options?: StorageGetOptions): Promise<Map<string, T>>;
  list<T = unknown>(options?: StorageListOptions): Promise<Map<string, T>>;
  put<T>(key: string, value: T, options?: StoragePutOptions): Promise<void>;
  put<T>(entries: Record<string, T>, options?: StoragePutOptions): Promise<void>;
  delete(key: string, options?: StoragePutOptions): Promise<boolean>;
  delete(keys: string[], options?: StoragePutOptions): Promise<number>;
  deleteAll(options?: StoragePutOptions): Promise<void>;
  transaction<T>(closure: (txn: StorageTransaction) => Promise<T>): Promise<T>;
  getAlarm(options?: StorageGetAlarmOptions): Promise<number | null>;
  setAlarm(scheduledTime: number | Date, options?: StorageSetAlarmOptions): Promise<void>;
  deleteAlarm(options?: StorageSetAlarmOptions): Promise<void>;
  sync(): Promise<void>;
}

export interface ConnectionContext {
  request: Request;
}

type Primitive = string | number | boolean | bigint | symbol | null | undefined;
/** A deep read-only view: connection state is replaced with setState, never mutated. */
export type ImmutablePrimitive = Primitive;
export type ImmutableArray<T> = ReadonlyArray<Immutable<T>>;
export type ImmutableObject<T> = { readonly [K in keyof T]: Immutable<T[K]> };
export type Immutable<T> = T extends Primitive
  ? T
  : T extends Array<infer U>
    ? ImmutableArray<U>
    : ImmutableObject<T>;

export type ConnectionState<T> = ImmutableObject<T> | null;
export type ConnectionSetStateFn<T> = (prevState: ConnectionState<T>) => T;

/** The WebSocket surface a connection offers (WHATWG-shaped). */
export interface WebSocketLike {
  readonly readyState: number;
  readonly CONNECTING: 0;
  readonly OPEN: 1;
  readonly CLOSING: 2;
  readonly CLOSED: 3;
  readonly url: string | null;
  readonly protocol: string;
  readonly extensions: string;
  readonly bufferedAmount: number;
  binaryType: "arraybuffer" | "blob";
  send(message: string | ArrayBuffer | ArrayBufferView): void;
  close(code?: number, reason?: string): void;
  accept(): void;
  addEventListener(type: "message", listener: (event: MessageEvent) => void): void;
  addEventListener(type: "close", listener: (event: CloseEvent) => void): void;
  addEventListener(type: "error", listener: (event: Event) => void): void;
  addEventListener(type: string, listener: (event: Event) => void): void;
  removeEventListener(type: string, listener: (event: never) => void): void;
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  onerror: ((event: Event) => void) | null;
  onopen: ((event: Event) => void) | null;
}

/** A client connected to a room. */
export interface Connection<TState = unknown> extends WebSocketLike {
  /** The `_pk` query parameter if the client sent one, else a random UUID. */
  id: string;
  /** The full URL the client connected to, query included. */
  uri: string;
  /** @deprecated the connection itself */
  socket: WebSocketLike;
  state: ConnectionState<TState>;
  setState(state: TState | ConnectionSetStateFn<TState> | null): ConnectionState<TState>;
  /** @deprecated use setState */
  serializeAttachment<T = unknown>(attachment: T): void;
  /** @deprecated use state */
  deserializeAttachment<T = unknown>(): T | null;
}

/** A handle to a room of another (or the same) party. */
export interface Stub {
  /** @deprecated use `await socket()` */
  connect(): WebSocket;
  socket(pathOrInit?: string | RequestInit, init?: RequestInit): Promise<WebSocket>;
  fetch(pathOrInit?: string | RequestInit | globalThis.Request, init?: RequestInit): Promise<Response>;
}

export interface Parties {
  [name: string]: { get(id: string): Stub };
}

export interface AssetsBinding {
  fetch(path: string): Promise<Response | null>;
}

export interface Context {
  parties: Parties;
  ai: AI;
  vectorize: Record<string, unknown>;
  assets: AssetsBinding;
  bindings: { r2: Record<string, unknown>; kv: Record<string, unknown> };
}

export interface AnalyticsDataPoint {
  indexes?: (ArrayBuffer | string | null)[];
  doubles?: number[];
  blobs?: (ArrayBuffer | string | null)[];
}
export interface Analytics {
  writeDataPoint(event?: AnalyticsDataPoint): void;
}

/** What a `Party.Server` instance sees of its room. */
export interface Room {
  /** Room id from the URL, as sent (not percent-decoded). */
  id: string;
  /** A stable 64-hex-character id for (party, room). */
  internalID: string;
  /** The party name: "main" or a key of `partykit.json#parties`. */
  name: string;
  env: Record<string, unknown>;
  storage: Storage;
  context: Context;
  analytics: Analytics;
  blockConcurrencyWhile<T>(callback: () => Promise<T>): Promise<T>;
  broadcast(message: string | ArrayBuffer | ArrayBufferView, without?: string[]): void;
  getConnection<TState = unknown>(id: string): Connection<TState> | undefined;
  getConnections<TState = unknown>(tag?: string): Iterable<Connection<TState>>;
  /** @deprecated use getConnections() */
  connections: Map<string, Connection>;
  /** @deprecated use context.parties */
  parties: Parties;
}

export interface Lobby {
  id: string;
  env: Record<string, unknown>;
  ai: AI;
  parties: Parties;
  vectorize: Record<string, unknown>;
  analytics: Analytics;
  assets: AssetsBinding;
  bindings: { r2: Record<string, unknown>; kv: Record<string, unknown> };
}
export type FetchLobby = Omit<Lobby, "id">;
export type CronLobby = Omit<Lobby, "id">;

export interface Cron {
  name: string;
  cron: string;
  scheduledTime: number;
  noRetry(): void;
}

/** A WebSocket accepted by `static onSocket` on a non-room path. */
export type FetchSocket = WebSocketLike & { request: Request };

export interface ServerOptions {
  hibernate?: boolean;
}

/** The class API: one instance per room. */
export interface Server {
  readonly options?: ServerOptions;
  onStart?(): void | Promise<void>;
  onConnect?(connection: Connection, ctx: ConnectionContext): void | Promise<void>;
  onMessage?(message: string | ArrayBuffer | ArrayBufferView, sender: Connection): void | Promise<void>;
  onClose?(connection: Connection): void | Promise<void>;
  onError?(connection: Connection, error: Error): void | Promise<void>;
  onRequest?(req: Request): Response | Promise<Response>;
  onAlarm?(): void | Promise<void>;
  getConnectionTags?(connection: Connection, ctx: ConnectionContext): string[] | Promise<string[]>;
}

/** A class whose instances serve rooms. */
export type ServerConstructor = new (room: Room) => Server;

/**
 * The class itself, with its static handlers. An intersection, as PartyKit declares it: a class
 * with only statics (a router) must still satisfy it, which an interface with a construct
 * signature rejects (its instances share no member with the all-optional Server).
 */
export type Worker = ServerConstructor & {
  onBeforeConnect?(req: Request, lobby: Lobby, ctx: ExecutionContext): Request | Response | Promise<Request | Response>;
  onBeforeRequest?(req: Request, lobby: Lobby, ctx: ExecutionContext): Request | Response | Promise<Request | Response>;
  onFetch?(req: Request, lobby: FetchLobby, ctx: ExecutionContext): Response | null | undefined | Promise<Response | null | undefined>;
  onSocket?(socket: FetchSocket, lobby: FetchLobby, ctx: ExecutionContext): void | Promise<void>;
  onCron?(cron: Cron, lobby: CronLobby, ctx: ExecutionContext): void | Promise<void>;
};

/** The legacy object API (`export default { ... } satisfies PartyKitServer`). */
export interface PartyKitServer {
  onConnect?(connection: Connection, room: Room, ctx: ConnectionContext): void | Promise<void>;
  onMessage?(message: string | ArrayBuffer | ArrayBufferView, connection: Connection, room: Room): void | Promise<void>;
  onClose?(connection: Connection, room: Room): void | Promise<void>;
  onError?(connection: Connection, err: Error, room: Room): void | Promise<void>;
  onRequest?(req: Request, room: Room): Response | Promise<Response>;
  onAlarm?(room: Omit<Room, "id" | "parties">): void | Promise<void>;
  onBeforeConnect?(req: Request, lobby: Lobby, ctx: ExecutionContext): Request | Response | globalThis.Request | Promise<Request | Response | globalThis.Request>;
  onBeforeRequest?(req: Request, lobby: Lobby, ctx: ExecutionContext): Request | Response | globalThis.Request | Promise<Request | Response | globalThis.Request>;
  onFetch?(req: Request, lobby: FetchLobby, ctx: ExecutionContext): Response | null | undefined | Promise<Response | null | undefined>;
  /** @deprecated use onFetch */
  unstable_onFetch?(req: Request, lobby: FetchLobby, ctx: ExecutionContext): Response | null | undefined | Promise<Response | null | undefined>;
  onSocket?(socket: FetchSocket, lobby: FetchLobby, ctx: ExecutionContext): void | Promise<void>;
  onCron?(controller: Cron, lobby: CronLobby, ctx: ExecutionContext): void | Promise<void>;
}

export type StaticAssetsManifestType = {
  devServer: string;
  browserTTL: number | null | undefined;
  edgeTTL: number | null | undefined;
  singlePageApp: boolean | undefined;
  assets: Record<string, string>;
  assetInfo?: Record<string, { fileHash: string; fileName: string; fileSize: number }>;
};

/** Deprecated aliases kept so older projects type-check. */
export type Party = Room;
export type PartyKitRoom = Room;
export type PartyRequest = Request;
export type PartyStorage = Storage;
export type PartyKitStorage = Storage;
export type PartyConnectionContext = ConnectionContext;
export type PartyKitContext = ConnectionContext;
export type PartyConnection<T = unknown> = Connection<T>;
export type PartyKitConnection<T = unknown> = Connection<T>;
export type PartyStub = Stub;
export type PartyContext = Context;
export type PartyLobby = Lobby;
export type PartyFetchLobby = FetchLobby;
export type PartyExecutionContext = ExecutionContext;
export type PartyServer = Server;
export type PartyWorker = Worker;
export type PartyServerOptions = ServerOptions;
