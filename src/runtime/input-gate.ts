/**
 * A room's input gate. While it is closed (onStart running, blockConcurrencyWhile, a storage
 * operation in progress) new events wait, then start in arrival order once it opens.
 *
 * Waiting events start from a setImmediate, not the moment the gate opens: the code that was
 * awaiting the storage operation (or onStart) must continue first, through all its microtask
 * hops, exactly as a Durable Object delivers storage completions before new events.
 */
export class InputGate {
  private closers = 0;
  /** Created when an event first has to wait; most rooms never need it. */
  private waiting: Array<() => void> | undefined;
  private drainScheduled = false;

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
    if (this.closers === 0 && this.waitingCount > 0) this.scheduleDrain();
  }

  /** Starts `event` now if nothing is in its way, else once everything before it has started. */
  enter(event: () => void): void {
    if (this.closers === 0 && this.waitingCount === 0) event();
    else (this.waiting ??= []).push(event);
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      // An event may close the gate again as it starts (a storage call, blockConcurrencyWhile).
      while (this.closers === 0 && this.waitingCount > 0) this.waiting!.shift()!();
    });
  }
}
