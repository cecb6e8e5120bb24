/**
 * Counting request body bytes as they are read: one request's body may not exceed the limit
 * (413), and all bodies being read at once may not exceed the process-wide budget (503).
 * Without this, 20 concurrent 200 MB uploads to a room that calls `await req.text()` took the
 * process to 3.14 GB (issue 11).
 */

export class BodyBudget {
  private used = 0;

  constructor(readonly limit: number) {}

  /** Bytes held by bodies right now (for tests and metrics). */
  get inUse(): number {
    return this.used;
  }

  /** Whether `bytes` more would fit now. */
  fits(bytes: number): boolean {
    return this.used + bytes <= this.limit;
  }

  take(bytes: number): boolean {
    if (this.used + bytes > this.limit) return false;
    this.used += bytes;
    return true;
  }

  give(bytes: number): void {
    this.used -= bytes;
  }
}

export type BodyFailure = 413 | 503;

/** One request's share: counts its bytes, remembers why it was cut off, returns them once. */
export class BodyMeter {
  /** Set when the body was cut off; the front door answers with this status instead. */
  failure: BodyFailure | null = null;
  private held = 0;
  private released = false;

  constructor(
    private readonly budget: BodyBudget,
    private readonly maxBytes: number,
  ) {}

  /** Counts a chunk; false (and `failure` set) when it breaks the limit or the budget. */
  add(bytes: number): boolean {
    if (this.failure !== null || this.released) return false;
    if (this.held + bytes > this.maxBytes) {
      this.failure = 413;
      return false;
    }
    if (!this.budget.take(bytes)) {
      this.failure = 503;
      return false;
    }
    this.held += bytes;
    return true;
  }

  /** The response is done: the body's bytes no longer count against the budget. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.give(this.held);
    this.held = 0;
  }
}

export class BodyTooLargeError extends Error {
  override name = "BodyTooLargeError";
}
