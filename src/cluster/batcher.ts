/**
 * Set-based statements for per-room requests (claims, releases, owner lookups): requests made
 * in one event-loop turn, or while earlier batches are in flight, go to the database together
 * as one call of `run`. Each committed statement costs a WAL flush and a round trip whatever
 * the number of rows, so thousands of new rooms a second need their claims grouped, the same
 * way the storage group commit groups writes (src/storage/service.ts).
 *
 * Bounded both ways: at most `maxBatch` items per call and at most `maxInFlight` calls at once;
 * the rest waits for the next call, which starts as soon as one ends.
 */

export interface BatcherOptions {
  /** Items per call of `run`. */
  readonly maxBatch: number;
  /** Calls of `run` in flight at once. */
  readonly maxInFlight: number;
}

interface Waiting<I, O> {
  readonly item: I;
  readonly resolve: (output: O) => void;
  readonly reject: (error: unknown) => void;
}

export class Batcher<I, O> {
  private readonly waiting: Array<Waiting<I, O>> = [];
  private inFlight = 0;
  private scheduled = false;

  /** `run` answers one output per item, in the items' order. */
  constructor(
    private readonly run: (items: readonly I[]) => Promise<readonly O[]>,
    private readonly options: BatcherOptions,
  ) {}

  /** Resolves with this item's output once the call that carried it returned. */
  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.schedule();
    });
  }

  /** At the end of the turn, so every request made during it rides the same call. */
  private schedule(): void {
    if (this.scheduled || this.inFlight >= this.options.maxInFlight || this.waiting.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    while (this.inFlight < this.options.maxInFlight && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.options.maxBatch);
      this.inFlight++;
      void this.settle(batch).finally(() => {
        this.inFlight--;
        this.schedule();
      });
    }
  }

  private async settle(batch: ReadonlyArray<Waiting<I, O>>): Promise<void> {
    try {
      const outputs = await this.run(batch.map((waiting) => waiting.item));
      if (outputs.length !== batch.length) throw new Error(`a batch of ${batch.length} got ${outputs.length} answers`);
      batch.forEach((waiting, i) => waiting.resolve(outputs[i]));
    } catch (error) {
      // One statement: if it failed, it failed for every item it carried.
      for (const waiting of batch) waiting.reject(error);
    }
  }
}
