/**
 * Awareness renewals (and newcomers) relayed in batches. Every provider renews its awareness
 * every 15 s (the same state with a newer clock, so nobody drops it as outdated after 30 s), and
 * y-partykit's and y-websocket's providers send back every awareness update they apply. Relayed
 * one by one, each renewal to N editors returns N − 1 times: N² messages in per 15 s, and as many
 * while N editors join. Held for a short window and relayed as one message, a batch is applied
 * and echoed once per editor: about N per window.
 *
 * Only renewals and a newcomer's first state wait. A change (a cursor move, a removal) goes out at
 * once and supersedes the held entry of its client, which is then dropped: nothing is relayed out
 * of order. The window must stay well under y-protocols' 30 s outdated timeout.
 */
import type { AwarenessEntry } from "./awareness-store.js";

export class RenewalBatch {
  /** Held renewals by client id, in the order they arrived. */
  private readonly held = new Map<number, AwarenessEntry>();
  private timer: NodeJS.Timeout | undefined;
  private flushed: (() => void) | undefined;

  /** `relay` sends a batch to everyone, `windowMs` after its first renewal (a room with no window builds none). */
  constructor(
    private readonly windowMs: number,
    private readonly relay: (entries: AwarenessEntry[]) => void,
  ) {}

  /**
   * Holds a renewal. The renewal that starts a batch gets a promise that settles once the batch
   * is relayed: returned from the message handler, it keeps the room's event open, so the room
   * does not hibernate with a batch held.
   */
  add(entry: AwarenessEntry): Promise<void> | undefined {
    this.held.delete(entry.clientId);
    this.held.set(entry.clientId, entry);
    if (this.timer) return undefined;
    return new Promise((resolve) => {
      this.flushed = resolve;
      this.timer = setTimeout(() => this.flush(), this.windowMs);
    });
  }

  /** The client's state changed or it left: its held renewal is out of date. */
  drop(clientId: number): void {
    this.held.delete(clientId);
  }

  get size(): number {
    return this.held.size;
  }

  /** Relays what is held now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const entries = [...this.held.values()];
    this.held.clear();
    const flushed = this.flushed;
    this.flushed = undefined;
    try {
      if (entries.length > 0) this.relay(entries);
    } finally {
      flushed?.();
    }
  }
}
