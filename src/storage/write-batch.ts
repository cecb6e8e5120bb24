/**
 * Everything one room wrote between two commits. The service takes a room's batch when it
 * commits; writes made after that start the next batch. Every write call of the batch shares
 * its `durable` promise.
 */
import type { StoredValue } from "./values.js";

export class WriteBatch {
  /** Key to new value, or null for a delete; applied after `deleteAll`. */
  readonly entries = new Map<string, StoredValue | null>();
  /** Keys written with `noCache`: dropped from the read cache once durable. */
  noCacheKeys: Set<string> | undefined;
  deleteAll = false;
  /** Roughly what the batch holds (keys and serialized values), for back-pressure. */
  bytes = 0;
  /** New alarm, null to clear, undefined for no change. */
  alarm: number | null | undefined = undefined;
  /** Whether output must wait for this batch (false when every write was allowUnconfirmed). */
  gatesOutput = false;
  /** Reads the batch's results depend on (delete() counting keys); the commit waits for them. */
  blockers: Array<Promise<unknown>> = [];
  readonly durable: Promise<void>;
  private resolveDurable!: () => void;
  private rejectDurable!: (error: Error) => void;

  constructor(readonly id: number) {
    this.durable = new Promise<void>((resolve, reject) => {
      this.resolveDurable = resolve;
      this.rejectDurable = reject;
    });
    // Writes are often not awaited; their failure is reported through hooks.writeFailed, so
    // it must not also crash the process as an unhandled rejection.
    this.durable.catch(() => {});
  }

  settle(error?: Error): void {
    if (error === undefined) this.resolveDurable();
    else this.rejectDurable(error);
  }
}
