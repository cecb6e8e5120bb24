import { atTurnEnd, type TurnListener } from "./turn-end.js";

/**
 * A room's input gate: one event at a time, as a Durable Object delivers them.
 *
 * An event may start only when the gate is open (no onStart, blockConcurrencyWhile or storage
 * operation in progress) and the turn in which the previous event started, or in which the gate
 * last opened, is over (turn-end.ts). So an event runs through every continuation of settled
 * promises (a `get` served from memory, an awaited `put`) before the next one starts, and the
 * code that awaited a storage operation continues before any new event. Events that cannot
 * start wait here and start in arrival order, each at the end of the turn of the one before.
 */
export class InputGate implements TurnListener {
  private closers = 0;
  /** An event started (or the gate opened) in the current turn: its continuation may still run. */
  private busy = false;
  /** Created when an event first has to wait; most rooms never need it. */
  private waiting: Array<() => void> | undefined;

  get isOpen(): boolean {
    return this.closers === 0;
  }

  get waitingCount(): number {
    return this.waiting?.length ?? 0;
  }

  close(): void {
    this.closers++;
  }

  open(): void {
    if (this.closers === 0) throw new Error("input gate opened more often than closed");
    this.closers--;
    // The code awaiting what just finished continues in this turn: the next event waits for it.
    if (this.closers === 0) this.markBusy();
  }

  /**
   * Whether an event may start right now; if so, the caller starts it at once (the gate counts
   * it as started). The common case: nothing in the way, so no queueing and no closure.
   */
  tryStartNow(): boolean {
    if (this.closers !== 0 || this.busy || this.waitingCount !== 0) return false;
    this.markBusy();
    return true;
  }

  /** Starts `event` now if nothing is in its way, else once everything before it has started. */
  enter(event: () => void): void {
    if (this.tryStartNow()) event();
    else (this.waiting ??= []).push(event);
  }

  turnEnded(): void {
    this.busy = false;
    if (this.closers !== 0 || this.waitingCount === 0) return;
    // Starting the next event may close the gate again (a storage call, blockConcurrencyWhile).
    this.markBusy();
    this.waiting!.shift()!();
  }

  private markBusy(): void {
    if (this.busy) return;
    this.busy = true;
    atTurnEnd(this);
  }
}
