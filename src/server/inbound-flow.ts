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

interface FlowState {
  turn: number;
  used: number;
  /** Deliveries that wait for a later turn, in arrival order; null when none wait. */
  queue: Array<{ bytes: number; run: () => void }> | null;
  room: FlowRoom;
}

const kFlow = Symbol("partyhouse.flow");
type Flowing = WebSocket & { [kFlow]?: FlowState };

let turn = 0;
let turnScheduled = false;
const waiting = new Set<Flowing>();

/** Runs `deliver` now if `ws` has share left in this turn, else queues it and pauses `ws`. */
export function deliverInbound(ws: WebSocket, room: FlowRoom, bytes: number, deliver: () => void): void {
  const flowing = ws as Flowing;
  let state = flowing[kFlow];
  if (state === undefined) state = flowing[kFlow] = { turn, used: 0, queue: null, room };
  else if (state.turn !== turn) {
    state.turn = turn;
    state.used = 0;
  }
  if (state.queue === null && state.used < SHARE_BYTES && room.pendingEvents <= MAX_PENDING) {
    state.used += bytes + PER_MESSAGE_COST;
    scheduleTurn();
    deliver();
    return;
  }
  (state.queue ??= []).push({ bytes, run: deliver });
  if (!ws.isPaused) ws.pause();
  waiting.add(flowing);
  scheduleTurn();
}

/** Runs `event` (a close, an error) after the messages still queued for `ws`. */
export function afterInbound(ws: WebSocket, event: () => void): void {
  const state = (ws as Flowing)[kFlow];
  if (state?.queue) state.queue.push({ bytes: 0, run: event });
  else event();
}

function scheduleTurn(): void {
  if (turnScheduled) return;
  turnScheduled = true;
  setImmediate(nextTurn);
}

function nextTurn(): void {
  turnScheduled = false;
  turn++;
  for (const ws of waiting) {
    const state = ws[kFlow]!;
    state.turn = turn;
    state.used = 0;
    const queue = state.queue!;
    if (state.room.pendingEvents > MAX_PENDING) continue;
    while (queue.length > 0 && state.used < SHARE_BYTES) {
      const item = queue.shift()!;
      state.used += item.bytes + PER_MESSAGE_COST;
      item.run();
    }
    if (queue.length === 0) {
      state.queue = null;
      waiting.delete(ws);
      ws.resume();
    }
  }
  if (waiting.size > 0) {
    // A room that is behind drains by itself: look again after some I/O, without spinning.
    turnScheduled = true;
    if ([...waiting].every((ws) => ws[kFlow]!.room.pendingEvents > MAX_PENDING)) setTimeout(nextTurn, 1);
    else setImmediate(nextTurn);
  }
}

/** For tests: sockets with deliveries waiting, and how many wait in all. */
export function waitingInbound(): { sockets: number; deliveries: number } {
  let deliveries = 0;
  for (const ws of waiting) deliveries += ws[kFlow]!.queue?.length ?? 0;
  return { sockets: waiting.size, deliveries };
}
