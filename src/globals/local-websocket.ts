/**
 * workerd's `WebSocketPair` on Node: two in-process WebSocket ends, each delivering what the
 * other sends. User code accepts one end (`pair[1].accept()`) and returns the other in
 * `new Response(null, { status: 101, webSocket: pair[0] })`; the front door then attaches the
 * client's real socket in place of that end (`attach`), so frames go straight between the
 * client and the accepted end, with no extra hop.
 */
import type { WebSocket as NodeWebSocket } from "ws";
import { isValidCloseCode, truncateReason } from "../runtime/close-reason.js";
import { ConnectionCloseEvent, ConnectionMessageEvent } from "../runtime/events.js";
import { outgoingMessage } from "../runtime/frame.js";

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
type ReadyState = typeof CONNECTING | typeof OPEN | typeof CLOSING | typeof CLOSED;

type Delivery = { kind: "message"; data: string | ArrayBuffer } | { kind: "close"; code: number; reason: string };

type Handler = ((event: Event) => void) | null;

export class LocalWebSocket extends EventTarget {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;
  readonly CONNECTING = CONNECTING;
  readonly OPEN = OPEN;
  readonly CLOSING = CLOSING;
  readonly CLOSED = CLOSED;

  binaryType: "arraybuffer" | "blob" = "arraybuffer";
  onmessage: Handler = null;
  onclose: Handler = null;
  onerror: Handler = null;
  onopen: Handler = null;
  readonly url = null;
  readonly protocol = "";
  readonly extensions = "";

  #peer: LocalWebSocket | undefined;
  #state: ReadyState = OPEN;
  #accepted = false;
  /**
   * What reached this end and was not delivered yet: before accept() (or before the front door
   * attached a client), and until the next microtask, since events never fire inside send().
   */
  #inbox: Delivery[] = [];
  #drainScheduled = false;
  /** Set once a real client socket stands in for this end. */
  #client: NodeWebSocket | undefined;

  /** @internal use `new WebSocketPair()` */
  static pair(): [LocalWebSocket, LocalWebSocket] {
    const a = new LocalWebSocket();
    const b = new LocalWebSocket();
    a.#peer = b;
    b.#peer = a;
    return [a, b];
  }

  get readyState(): number {
    return this.#state;
  }

  /** Starts delivering events to this end's listeners (what arrived before is delivered first). */
  accept(): void {
    if (this.#client) throw new TypeError("This WebSocket was returned in a Response; it cannot be accepted");
    if (this.#accepted) return;
    this.#accepted = true;
    this.#scheduleDrain();
  }

  send(message: string | ArrayBuffer | ArrayBufferView): void {
    if (!this.#accepted) throw new TypeError("You must call accept() on this WebSocket before sending messages.");
    if (this.#state !== OPEN) throw new TypeError("Can't call WebSocket send() after close().");
    const data = outgoingMessage(message);
    this.#peer!.#receive({ kind: "message", data: typeof data === "string" ? data : copyBytes(data) });
  }

  close(code?: number, reason?: string): void {
    if (code !== undefined && !isValidCloseCode(code)) throw new TypeError(`invalid close code ${code}: use 1000 or 3000-4999`);
    if (this.#state >= CLOSING) return;
    this.#state = CLOSING;
    this.#peer!.#receive({ kind: "close", code: code ?? 1005, reason: reason === undefined ? "" : truncateReason(reason) });
  }

  /**
   * The front door completed the client's handshake for this end (the one in the 101
   * Response): from now on the client's socket stands in for it. Null means the client left.
   */
  attach(client: NodeWebSocket | null): void {
    const peer = this.#peer!;
    if (client === null) {
      this.#state = CLOSED;
      peer.#receive({ kind: "close", code: 1006, reason: "" });
      return;
    }
    this.#client = client;
    client.on("message", (data: Buffer, isBinary: boolean) => {
      if (this.#state === OPEN) peer.#receive({ kind: "message", data: isBinary ? copyBytes(data) : data.toString("utf8") });
    });
    client.on("close", (code: number, reason: Buffer) => {
      this.#state = CLOSED;
      peer.#receive({ kind: "close", code, reason: reason.toString("utf8") });
    });
    // Transport errors end in a close event as well; that is what the peer hears about.
    client.on("error", () => undefined);
    for (const delivery of this.#inbox.splice(0)) this.#forward(client, delivery);
  }

  /** Whether this end can still be returned in a 101 Response. */
  get isAttachable(): boolean {
    return !this.#accepted && this.#client === undefined;
  }

  #receive(delivery: Delivery): void {
    if (this.#client) return this.#forward(this.#client, delivery);
    if (this.#state === CLOSED) return;
    this.#inbox.push(delivery);
    this.#scheduleDrain();
  }

  #scheduleDrain(): void {
    if (!this.#accepted || this.#drainScheduled || this.#inbox.length === 0) return;
    this.#drainScheduled = true;
    queueMicrotask(() => {
      this.#drainScheduled = false;
      for (let delivery = this.#inbox.shift(); delivery; delivery = this.#inbox.shift()) this.#deliver(delivery);
    });
  }

  #deliver(delivery: Delivery): void {
    if (this.#state === CLOSED) return;
    if (delivery.kind === "message") {
      const data = delivery.data;
      this.#dispatch(new ConnectionMessageEvent(typeof data !== "string" && this.binaryType === "blob" ? new Blob([data]) : data));
      return;
    }
    const wasOpen = this.#state === OPEN;
    this.#state = CLOSED;
    this.#dispatch(new ConnectionCloseEvent(delivery.code, delivery.reason, delivery.code !== 1006));
    // The other side asked to close: answer, as a client socket would.
    if (wasOpen && delivery.code !== 1006) this.#peer!.#receive({ kind: "close", code: delivery.code, reason: delivery.reason });
  }

  #forward(client: NodeWebSocket, delivery: Delivery): void {
    if (client.readyState !== OPEN) return;
    if (delivery.kind === "message") client.send(delivery.data, { binary: typeof delivery.data !== "string" });
    else if (delivery.code === 1005) client.close();
    else client.close(delivery.code, delivery.reason);
  }

  #dispatch(event: Event): void {
    const handler = this[`on${event.type}` as "onmessage"];
    if (typeof handler === "function") {
      try {
        handler.call(this, event);
      } catch (error) {
        // As EventTarget does for listeners: reported, never thrown into the sender.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    this.dispatchEvent(event);
  }
}

/** `new WebSocketPair()`: `{ 0: client end, 1: server end }`, as in workerd. */
export class WebSocketPair {
  readonly 0: LocalWebSocket;
  readonly 1: LocalWebSocket;
  constructor() {
    const [client, server] = LocalWebSocket.pair();
    this[0] = client;
    this[1] = server;
  }
  *[Symbol.iterator](): IterableIterator<LocalWebSocket> {
    yield this[0];
    yield this[1];
  }
}

function copyBytes(message: ArrayBuffer | ArrayBufferView): ArrayBuffer {
  if (message instanceof ArrayBuffer) return message.slice(0);
  return message.buffer.slice(message.byteOffset, message.byteOffset + message.byteLength) as ArrayBuffer;
}
