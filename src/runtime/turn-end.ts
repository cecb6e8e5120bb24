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
let scheduled = false;

/** Calls `listener.turnEnded()` once the microtask queue has drained. */
export function atTurnEnd(listener: TurnListener): void {
  waiting.push(listener);
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
}
