/**
 * Reports exceptions thrown by user handlers: counted for metrics every time, logged with the
 * party, room, handler and stack the first time, and then not again for the same room, handler
 * and message until `windowMs` has passed. A handler that throws on every message would
 * otherwise write a stack per message and drown the log (and the disk) in copies of one line;
 * the next line after the window says how many repeats it held back.
 */
import type { RoomRef } from "../storage/engine.js";
import type { RuntimeCounters } from "../metrics/counters.js";
import { describeError, type Logger } from "./logger.js";
import { roomKey } from "../storage/room-key.js";

export const DEFAULT_REPEAT_WINDOW_MS = 60_000;
/** Bound on remembered (room, handler, message) keys; past it the memory starts over. */
const MAX_REMEMBERED = 10_000;

interface Seen {
  since: number;
  suppressed: number;
}

export class HandlerErrorReporter {
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly logger: Logger,
    private readonly counters: RuntimeCounters,
    private readonly windowMs = DEFAULT_REPEAT_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {}

  /** `event` names what failed, e.g. "onMessage failed"; the handler is its first word. */
  report(ref: RoomRef, event: string, error: unknown): void {
    const handler = event.replace(/ failed$/, "");
    this.counters.party(ref.party).countError(handler);
    const described = describeError(error);
    const key = `${roomKey(ref)}\0${handler}\0${String(described.error)}`;
    const now = this.now();
    const entry = this.seen.get(key);
    if (entry !== undefined && now - entry.since < this.windowMs) {
      entry.suppressed++;
      return;
    }
    const fields: Record<string, unknown> = { party: ref.party, room: ref.room, handler, ...described };
    if (entry !== undefined && entry.suppressed > 0) fields.repeatsSuppressed = entry.suppressed;
    this.logger.log("error", event, fields);
    if (entry === undefined && this.seen.size >= MAX_REMEMBERED) this.seen.clear();
    this.seen.set(key, { since: now, suppressed: 0 });
  }
}
