/**
 * The end of the current turn: the first moment after now at which the microtask queue is empty.
 *
 * A Durable Object delivers one event at a time, and an event runs, through every continuation
 * of already settled promises (a `get` served from memory, a `put`), until it awaits real I/O:
 * only then may the next event start. Node's own event loop gives that between two I/O callbacks,
 * but not between events started in the same callback (`ws` emits every frame of one TCP chunk
 * synchronously; a queue drained in a loop starts all its events at once).
 *
 * Node runs the nextTick queue only once the microtask queue is empty, and a tick queued from a
 * microtask runs after that microtask queue has drained completely (documented ordering of
 * process.nextTick and promise jobs since Node 11). So "queue a microtask that queues a tick"
 * lands exactly at the end of the turn, without waiting for the next loop iteration as a
 * setImmediate would. One pair serves every room that started an event in the turn.
 */

/** Something that started an event this turn and wants to hear when the turn is over. */
export interface TurnListener {
  turnEnded(): void;
}

let waiting: TurnListener[] = [];
/** Listeners for the end of the last turn of a chain: when no listener started another turn. */
let quiet: TurnListener[] = [];
let scheduled = false;

/** Calls `listener.turnEnded()` once the microtask queue has drained. */
export function atTurnEnd(listener: TurnListener): void {
  waiting.push(listener);
  schedule();
}

/**
 * Calls `listener.turnEnded()` at the end of the first turn after which no other turn is chained
 * (no atTurnEnd listener started an event that asks for one): events that a room's input gate
 * starts one per turn, from one read of a socket, then all count as one burst. Still before the
 * event loop handles any other I/O.
 */
export function whenTurnsSettle(listener: TurnListener): void {
  quiet.push(listener);
  schedule();
}

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(queueTick);
}

function queueTick(): void {
  process.nextTick(endTurn);
}

function endTurn(): void {
  scheduled = false;
  const listeners = waiting;
  waiting = [];
  // A listener may start the next event of its room, which asks for the next turn end.
  for (const listener of listeners) listener.turnEnded();
  // Another turn follows (scheduled again above): the settle listeners wait for its end.
  if (scheduled || quiet.length === 0) return;
  const settled = quiet;
  quiet = [];
  for (const listener of settled) listener.turnEnded();
}
