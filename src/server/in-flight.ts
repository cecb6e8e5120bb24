/**
 * The HTTP requests being answered right now, so a shutdown can let them finish instead of
 * resetting them (issue 11): once draining, new requests get 503 with Retry-After, and the
 * ones in flight get until the deadline; any still unanswered then get 503 too.
 */
import type { ServerResponse } from "node:http";
import { DRAINING, refusalHeaders } from "./admission.js";
import { SlotTable } from "./slot-table.js";

/** How long a shutdown waits for requests in flight (under the CLI's 10 s forced exit). */
export const DEFAULT_DRAIN_MS = 5_000;

export class InFlight {
  /** Not a Set: one entry per request comes and goes, and a Set churned so promotes them all (slot-table.ts). */
  private readonly open = new SlotTable<ServerResponse>();
  private idle: (() => void) | null = null;
  draining = false;

  get size(): number {
    return this.open.size;
  }

  /** Tracks `res` until it closes; `done` runs then too (one listener per request). */
  add(res: ServerResponse, done: () => void): void {
    const slot = this.open.add(res);
    res.once("close", () => {
      this.open.delete(slot);
      done();
      if (this.open.size === 0) this.idle?.();
    });
  }

  /**
   * Answers not yet begun will ask their client to close the connection afterwards (a worker
   * being replaced: its clients' next requests must open a connection elsewhere).
   */
  closeConnectionsAfterAnswers(): void {
    for (const res of this.open.values()) if (!res.headersSent) res.setHeader("connection", "close");
  }

  /** Stops taking requests and waits up to `timeoutMs` for those in flight. */
  async drain(timeoutMs: number): Promise<void> {
    this.draining = true;
    if (this.open.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.idle = resolve;
        timer = setTimeout(resolve, timeoutMs);
      });
      clearTimeout(timer);
      this.idle = null;
    }
    for (const res of this.open.values()) {
      if (res.headersSent) res.destroy();
      else {
        res.writeHead(DRAINING.status, refusalHeaders(DRAINING));
        res.end(DRAINING.message);
      }
    }
  }
}
