import type * as Party from "../types/party.js";
import type { ConnectionStatePolicy } from "./connection-state.js";
import type { ConnectionEvent, ConnectionEventType } from "./events.js";
import type { SocketRecord } from "./socket-record.js";

/** What a connection needs from the room that owns its socket. */
export interface ConnectionHost {
  readonly statePolicy: ConnectionStatePolicy;
  /** Sends through the room's output gate. */
  send(record: SocketRecord, message: string | ArrayBuffer | ArrayBufferView): void;
  close(record: SocketRecord, code?: number, reason?: string): void;
  /** A listener was added to a connection (hibernating rooms warn: it will not survive). */
  listenerAdded(): void;
}

type Listener = ((event: never) => void) | { handleEvent(event: never): void };

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/**
 * The connection object user code sees: a WHATWG-shaped WebSocket plus PartyKit's id, uri and
 * state. A thin, lazily created view over a SocketRecord; everything that must survive
 * hibernation lives in the record, never here.
 */
export class PartyConnection<TState = unknown> implements Party.Connection<TState> {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;
  readonly CONNECTING = CONNECTING;
  readonly OPEN = OPEN;
  readonly CLOSING = CLOSING;
  readonly CLOSED = CLOSED;

  binaryType: "arraybuffer" | "blob" = "arraybuffer";
  onmessage: ((event: MessageEvent) => void) | null = null;
  onclose: ((event: CloseEvent) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  onopen: ((event: Event) => void) | null = null;
  private listeners: Map<string, Set<Listener>> | undefined;

  constructor(
    readonly record: SocketRecord,
    private readonly host: ConnectionHost,
  ) {}

  get id(): string {
    return this.record.id;
  }
  get uri(): string {
    return this.record.uri;
  }
  /** Cloudflare leaves `url` null on server sockets; the full URL is more useful and harmless. */
  get url(): string {
    return this.record.uri;
  }
  get readyState(): number {
    if (this.record.closed) return CLOSED;
    // Before the 101 the socket is already accepted from the room's point of view: sends queue.
    return this.record.ws === null ? OPEN : this.record.ws.readyState;
  }
  get protocol(): string {
    return this.record.ws?.protocol ?? "";
  }
  get extensions(): string {
    return "";
  }
  get bufferedAmount(): number {
    return this.record.ws?.bufferedAmount ?? 0;
  }
  /** @deprecated the connection itself */
  get socket(): this {
    return this;
  }

  get state(): Party.ConnectionState<TState> {
    return this.host.statePolicy.read(this.record) as Party.ConnectionState<TState>;
  }

  setState(state: TState | Party.ConnectionSetStateFn<TState> | null): Party.ConnectionState<TState> {
    const next =
      typeof state === "function" ? (state as Party.ConnectionSetStateFn<TState>)(this.state) : state;
    this.host.statePolicy.write(this.record, next);
    return next as Party.ConnectionState<TState>;
  }

  serializeAttachment<T = unknown>(attachment: T): void {
    this.host.statePolicy.writeAttachment(this.record, attachment);
  }

  deserializeAttachment<T = unknown>(): T | null {
    return this.host.statePolicy.readAttachment(this.record) as T | null;
  }

  accept(): void {
    // The runtime accepts every socket before user code sees it.
  }

  send(message: string | ArrayBuffer | ArrayBufferView): void {
    const state = this.readyState;
    if (state === CLOSING || state === CLOSED) {
      // workerd throws a TypeError here; user code may check the type.
      throw new TypeError("Can't call WebSocket send() after close().");
    }
    this.host.send(this.record, message);
  }

  close(code?: number, reason?: string): void {
    this.host.close(this.record, code, reason);
  }

  addEventListener(type: string, listener: Listener): void {
    if (!listener) return;
    this.listeners ??= new Map();
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(listener);
    this.host.listenerAdded();
  }

  removeEventListener(type: string, listener: Listener): void {
    this.listeners?.get(type)?.delete(listener);
  }

  /** True when user code listens for `type`, so the runtime can skip building the event. */
  hasListeners(type: ConnectionEventType): boolean {
    const property = this[`on${type}` as "onmessage"];
    return property !== null || (this.listeners?.get(type)?.size ?? 0) > 0;
  }

  /** Delivers an event to `on<type>` and the listeners; a throwing listener is reported, not fatal. */
  dispatch(event: ConnectionEvent, report: (error: unknown) => void): void {
    const property = this[`on${event.type}` as "onmessage"] as ((event: ConnectionEvent) => void) | null;
    const listeners = this.listeners?.get(event.type);
    const targets: Listener[] = [];
    if (typeof property === "function") targets.push(property as Listener);
    if (listeners) targets.push(...listeners);
    for (const target of targets) {
      try {
        const result =
          typeof target === "function"
            ? (target as (event: ConnectionEvent) => unknown).call(this, event)
            : (target as { handleEvent(event: ConnectionEvent): unknown }).handleEvent(event);
        if (result instanceof Promise) result.catch(report);
      } catch (error) {
        report(error);
      }
    }
  }
}
