/**
 * Inbound backpressure and fairness for WebSocket messages (issue 11: one client flooding a
 * room that writes storage per message took other rooms' HTTP p99 from 11 to 379 ms).
 *
 * Node reads a busy socket in chunks of up to 64 KiB, several per event-loop turn, and `ws`
 * emits every message of a chunk at once: ~800 small messages, each with its storage write,
 * and then one commit for all of them, in a single turn that every other room waits behind.
 * So each socket gets a share per turn:
 *
 * - Once a socket has delivered SHARE_BYTES in this turn, its further messages wait in a small
 *   queue for the next turn and the socket is paused (public `ws` API): nothing more is read
 *   from it, so the rest stays in the kernel and TCP pushes back on the client. The queue holds
 *   at most what was already read (about one chunk). Close and error events wait behind it.
 * - Queued messages are kept as they are, with no closure or wrapper object per message: a flood
 *   queues most of every read, and that garbage showed in the flood benchmark's GC time.
 * - Per room: while a room has more than MAX_PENDING events waiting at its input gate (storage
 *   reads or blockConcurrencyWhile hold them), its sockets get no share: the room's queue is
 *   bounded by MAX_PENDING plus what was already read.
 */
import type { WebSocket } from "ws";

/** Bytes (plus PER_MESSAGE_COST per message) one socket may deliver per event-loop turn. */
export const SHARE_BYTES = 8 * 1024;
export const MAX_PENDING = 256;
const PER_MESSAGE_COST = 64;

export interface FlowRoom {
  /** Events waiting to start (at the input gate). */
  readonly pendingEvents: number;
}

export type InboundMessage = string | ArrayBuffer;
/** Hands one message to the room; one function for all sockets, so no closure per message. */
export type DeliverMessage<S extends WebSocket> = (ws: S, message: InboundMessage) => void;
/** A close or an error: rare, so a closure is fine. */
type InboundEvent = () => void;

/** Per-socket bookkeeping of the share; created on the socket's first message. */
export interface FlowState {
  turn: number;
  used: number;
  room: FlowRoom;
  deliver: DeliverMessage<WebSocket>;
  /**
   * Messages and events that wait for a later turn, in arrival order, from `head` on; null when
   * none wait. A flood queues most of each 64 KiB read (~700 messages), so entries are the
   * message itself and its size in a parallel array: no object per message.
   */
  queue: Array<InboundMessage | InboundEvent> | null;
  sizes: number[];
  head: number;
}

/** A socket that carries its own flow state (the front door's socket class has the field). */
export interface FlowingSocket extends WebSocket {
  flow: FlowState | undefined;
}

let turn = 0;
let turnScheduled = false;
const waiting = new Set<FlowingSocket>();

/**
 * Calls `deliver(ws, message)` now if `ws` has share left in this turn, else queues the message
 * and pauses `ws`. `deliver` must be the same function for every message of a socket.
 */
export function deliverInbound<S extends FlowingSocket>(ws: S, room: FlowRoom, bytes: number, message: InboundMessage, deliver: DeliverMessage<S>): void {
  let state = ws.flow;
  if (state === undefined) {
    state = { turn, used: 0, room, deliver: deliver as DeliverMessage<WebSocket>, queue: null, sizes: [], head: 0 };
    ws.flow = state;
  } else if (state.turn !== turn) {
    state.turn = turn;
    state.used = 0;
  }
  if (state.queue === null && state.used < SHARE_BYTES && room.pendingEvents <= MAX_PENDING) {
    state.used += bytes + PER_MESSAGE_COST;
    scheduleTurn();
    deliver(ws, message);
    return;
  }
  enqueue(ws, state, message, bytes);
}

/** Runs `event` (a close, an error) after the messages still queued for `ws`. */
export function afterInbound(ws: FlowingSocket, event: InboundEvent): void {
  const state = ws.flow;
  if (state?.queue) {
    state.queue.push(event);
    state.sizes.push(0);
  } else event();
}

function enqueue(ws: FlowingSocket, state: FlowState, item: InboundMessage, bytes: number): void {
  if (state.queue === null) {
    state.queue = [];
    state.sizes.length = 0;
    state.head = 0;
  }
  state.queue.push(item);
  state.sizes.push(bytes);
  if (!ws.isPaused) ws.pause();
  waiting.add(ws);
  scheduleTurn();
}

function scheduleTurn(): void {
  if (turnScheduled) return;
  turnScheduled = true;
  setImmediate(nextTurn);
}

function nextTurn(): void {
  turnScheduled = false;
  turn++;
  let anyReady = false;
  for (const ws of waiting) {
    const state = ws.flow!;
    state.turn = turn;
    state.used = 0;
    if (state.room.pendingEvents > MAX_PENDING) continue;
    anyReady = true;
    drainShare(ws, state);
  }
  if (waiting.size > 0) {
    // A room that is behind drains by itself: look again after some I/O, without spinning.
    turnScheduled = true;
    if (anyReady) setImmediate(nextTurn);
    else setTimeout(nextTurn, 1);
  }
}

/** Delivers queued entries of `ws` up to its share; resumes reading once its queue is empty. */
function drainShare(ws: FlowingSocket, state: FlowState): void {
  const queue = state.queue!;
  while (state.head < queue.length && state.used < SHARE_BYTES) {
    const index = state.head++;
    const item = queue[index]!;
    // Let the delivered message be collected even while the rest of the queue waits.
    queue[index] = "";
    state.used += state.sizes[index]! + PER_MESSAGE_COST;
    if (typeof item === "function") item();
    else state.deliver(ws, item);
  }
  if (state.head === queue.length) {
    state.queue = null;
    state.sizes.length = 0;
    state.head = 0;
    waiting.delete(ws);
    ws.resume();
  }
}

/** For tests: sockets with deliveries waiting, and how many wait in all. */
export function waitingInbound(): { sockets: number; deliveries: number } {
  let deliveries = 0;
  for (const ws of waiting) {
    const state = ws.flow!;
    deliveries += (state.queue?.length ?? 0) - state.head;
  }
  return { sockets: waiting.size, deliveries };
}
