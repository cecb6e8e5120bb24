/**
 * The WebSocket side of the front door: the `ws` server that completes handshakes, the socket
 * class it makes, and the listeners that carry a room socket's frames, close and errors to its
 * room (RoomHost.socketMessage / socketClosed / socketError), through inbound-flow.ts's share.
 */
import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import type { RoomHost } from "../runtime/room-host.js";
import type { SocketRecord } from "../runtime/socket-record.js";
import { afterInbound, deliverInbound, type FlowingSocket, type FlowState } from "./inbound-flow.js";

/** PartyKit's limit on incoming frames; larger ones close the socket with 1009. */
export const MAX_INCOMING_FRAME_BYTES = 1024 * 1024;

/** The close reason for an oversized message (workerd's also gives the size, which `ws` keeps private). */
export const TOO_LARGE_REASON = `Message is too large: more than ${MAX_INCOMING_FRAME_BYTES} bytes`;

/**
 * The sockets the front door's WebSocket server makes. A socket that joined a room knows it, so
 * the module-level listeners below find their room without a closure per socket (at tens of
 * thousands of idle sockets every closure costs memory).
 */
export class PartyWebSocket extends WebSocket implements FlowingSocket {
  /** Set once the socket joined a room; a socket serving a WebSocketPair end has none. */
  room: RoomHost | undefined = undefined;
  record: SocketRecord | undefined = undefined;
  flow: FlowState | undefined = undefined;

  /** `ws` closes a socket whose message is over `maxPayload` with a bare 1009; say why, as workerd does. */
  override close(code?: number, data?: string | Buffer): void {
    if (code === 1009 && data === undefined) data = TOO_LARGE_REASON;
    super.close(code, data);
  }
}

/** A socket of a room, as the listeners below see it. */
type RoomWebSocket = PartyWebSocket & { room: RoomHost; record: SocketRecord };

/** Completes WebSocket handshakes for the front door, and joins room sockets to their room. */
export class WebSocketAcceptor {
  private readonly wss = new WebSocketServer({
    WebSocket: PartyWebSocket,
    noServer: true,
    maxPayload: MAX_INCOMING_FRAME_BYTES,
    perMessageDeflate: false,
    clientTracking: false,
    // PartyKit rejects subprotocols; accepting the first one offered is a strict superset.
    handleProtocols: (protocols) => protocols.values().next().value ?? false,
  });

  /** Completes the handshake for a socket of `room`, which from then on hears its frames. */
  async acceptRoomSocket(
    req: IncomingMessage,
    socket: Socket,
    head: Buffer,
    room: RoomHost,
    record: SocketRecord,
  ): Promise<{ ws: WebSocket } | null> {
    const ws = await this.upgrade(req, socket, head);
    if (!ws) return null;
    ws.room = room;
    ws.record = record;
    record.raw = socket;
    ws.on("message", onSocketMessage as (this: WebSocket, data: Buffer, isBinary: boolean) => void);
    ws.on("close", onSocketClose as (this: WebSocket, code: number, reason: Buffer) => void);
    ws.on("error", onSocketError as (this: WebSocket, error: Error) => void);
    return { ws };
  }

  /** Completes the handshake, or gives null if the client already went away. */
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<PartyWebSocket | null> {
    if (socket.destroyed || !socket.writable) return Promise.resolve(null);
    return new Promise((resolve) => {
      const onGone = () => resolve(null);
      socket.once("close", onGone);
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        socket.off("close", onGone);
        resolve(ws as PartyWebSocket);
      });
    });
  }
}

function onSocketMessage(this: RoomWebSocket, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
  const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  const room = this.room;
  const counters = room.services.counters;
  counters.messagesIn++;
  counters.bytesIn += buffer.length;
  const message = isBinary ? toArrayBuffer(buffer) : buffer.toString("utf8");
  // One client may not take a whole event-loop turn, nor grow a room's queue without bound.
  deliverInbound(this, room, buffer.byteLength, message, deliverSocketMessage);
}

/** Hands a message to the socket's room (inbound-flow.ts calls it, now or in a later turn). */
function deliverSocketMessage(ws: RoomWebSocket, message: string | ArrayBuffer): void {
  ws.room.socketMessage(ws.record, message);
}

function onSocketClose(this: RoomWebSocket, code: number, reason: Buffer): void {
  const room = this.room;
  room.services.counters.disconnects++;
  const record = this.record;
  const text = reason.toString("utf8");
  afterInbound(this, () => room.socketClosed(record, code, text));
}

function onSocketError(this: RoomWebSocket, error: Error & { code?: string }): void {
  // An oversized message: `ws` already sent the 1009; PartyKit reports it as an error.
  const room = this.room;
  const record = this.record;
  // Like a close, after the messages still queued for this socket (inbound-flow.ts).
  if (error.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH") {
    return afterInbound(this, () => room.socketMessageTooLarge(record));
  }
  // Other protocol violations (malformed frames) are answered by `ws` with a close frame
  // (1002, 1007, ...); the room hears about them as a close, not a transport error.
  if (typeof error.code === "string" && error.code.startsWith("WS_ERR_")) return;
  afterInbound(this, () => room.socketError(record, error));
}

/** An ArrayBuffer holding exactly these bytes (a Buffer may be a view into a larger pool). */
function toArrayBuffer(buffer: Buffer): ArrayBuffer {
  if (buffer.byteOffset === 0 && buffer.byteLength === buffer.buffer.byteLength && buffer.buffer instanceof ArrayBuffer) {
    return buffer.buffer;
  }
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength) as ArrayBuffer;
}
