/**
 * A room's output gate: messages and responses produced after a write wait until that write is
 * durable, so no client ever sees state a crash could take back. Output leaves in the order it
 * was produced; when a write fails, everything held is dropped (the room is then reset).
 */
interface Held {
  readonly durable: Promise<void> | undefined;
  readonly release: () => void;
  readonly drop: (error: unknown) => void;
}

export class OutputGate {
  /** Created when output first has to wait for a write; most rooms never need it. */
  private held: Held[] | undefined;
  private draining = false;

  /**
   * Runs `release` once `durable` (the writes made so far) resolves, after everything held
   * before it; runs it at once when nothing is pending or held. `drop` runs instead if the
   * write failed.
   */
  pass(durable: Promise<void> | undefined, release: () => void, drop: (error: unknown) => void = () => {}): void {
    if (durable === undefined && !this.isHolding) {
      release();
      return;
    }
    (this.held ??= []).push({ durable, release, drop });
    if (!this.draining) void this.drain();
  }

  /** Whether output is waiting for a write to become durable. */
  get isHolding(): boolean {
    return this.held !== undefined && this.held.length > 0;
  }

  /** Resolves when everything held so far has been released (or dropped). */
  whenPassed(durable: Promise<void> | undefined): Promise<void> {
    return new Promise((resolve, reject) => this.pass(durable, resolve, reject));
  }

  private async drain(): Promise<void> {
    this.draining = true;
    const held = this.held!;
    // The writes of one commit share its promise: once it resolved, the outputs behind it that
    // wait for the same promise go out in this turn instead of one microtask each.
    let passed: Promise<void> | undefined;
    while (held.length > 0) {
      const next = held[0]!;
      try {
        if (next.durable !== undefined && next.durable !== passed) {
          await next.durable;
          passed = next.durable;
        }
      } catch (error) {
        for (const dropped of held.splice(0)) dropped.drop(error);
        break;
      }
      held.shift();
      next.release();
    }
    this.draining = false;
  }
}
