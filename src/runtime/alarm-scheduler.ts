import type { RoomRef } from "../storage/engine.js";
import type { Logger } from "./logger.js";
import { describeError } from "./logger.js";
import { roomKey, type RoomKey } from "../storage/room-key.js";

/** Cloudflare's alarm retry policy: exponential backoff from 2 s, up to 6 retries. */
export const ALARM_RETRY_BASE_MS = 2000;
export const ALARM_MAX_RETRIES = 6;

/** Node timers overflow past ~24.8 days; longer waits are re-armed. */
const MAX_TIMER_MS = 2 **31 - 1;

/** `retry` is 0 for the first run, then 1, 2, … for the retries of a throwing onAlarm. */
type FireAlarm = (room: RoomRef, time: number, retry: number) => Promise<void>;

interface Entry {
  readonly key: RoomKey;
  readonly room: RoomRef;
  readonly time: number;
}

/**
 * One timer for every room's alarm in the process. Alarms live in storage; this keeps a
 * min-heap of when each room's alarm is due, fires it through the room (waking a cold room),
 * and retries a throwing onAlarm with backoff. The stored alarm is only cleared after onAlarm
 * succeeds, so an alarm that was due or running when the process died fires after restart.
 */
export class AlarmScheduler {
  private readonly due = new Map<RoomKey, Entry>();
  private readonly heap: Entry[] = [];
  private readonly running = new Set<RoomKey>();
  private readonly retryTimers = new Set<NodeJS.Timeout>();
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private stopped = false;

  constructor(
    private readonly fire: FireAlarm,
    private readonly logger: Logger,
    private readonly retryBaseMs = ALARM_RETRY_BASE_MS,
  ) {}

  /** A room's alarm is now `time` (or cleared, with null). */
  set(room: RoomRef, time: number | null): void {
    const key = roomKey(room);
    if (time === null) {
      this.due.delete(key);
      return;
    }
    const entry: Entry = { key, room, time };
    this.due.set(key, entry);
    this.push(entry);
    this.arm();
  }

  /** Whether the room's alarm handler is running (the room must not be evicted meanwhile). */
  isRunning(room: RoomRef): boolean {
    return this.running.has(roomKey(room));
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
  }

  private arm(): void {
    if (this.stopped) return;
    const next = this.peekValid();
    if (next === undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.timerAt = Infinity;
      return;
    }
    if (this.timer !== undefined && this.timerAt <= next.time) return;
    clearTimeout(this.timer);
    this.timerAt = next.time;
    const wait = Math.min(Math.max(0, next.time - Date.now()), MAX_TIMER_MS);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.fireDue();
    }, wait);
  }

  private fireDue(): void {
    const now = Date.now();
    for (let next = this.peekValid(); next !== undefined && next.time <= now; next = this.peekValid()) {
      this.pop();
      this.due.delete(next.key);
      this.attempt(next, 0);
    }
    this.arm();
  }

  private attempt(entry: Entry, retry: number): void {
    if (this.stopped) return;
    this.running.add(entry.key);
    this.fire(entry.room, entry.time, retry).then(
      () => this.running.delete(entry.key),
      (error: unknown) => {
        this.running.delete(entry.key);
        // A newer alarm set meanwhile replaces this one, retries included.
        if (this.due.has(entry.key)) return;
        if (retry >= ALARM_MAX_RETRIES) {
          this.logger.log("error", "onAlarm failed; giving up after retries", {
            party: entry.room.party,
            room: entry.room.room,
            retries: retry,
            ...describeError(error),
          });
          return;
        }
        const delay = this.retryBaseMs * 2 ** retry;
        this.logger.log("warn", "onAlarm failed; retrying", {
          party: entry.room.party,
          room: entry.room.room,
          retryInMs: delay,
          ...describeError(error),
        });
        const timer = setTimeout(() => {
          this.retryTimers.delete(timer);
          if (!this.due.has(entry.key)) this.attempt(entry, retry + 1);
        }, delay);
        this.retryTimers.add(timer);
      },
    );
  }

  /** The earliest entry that is still current (replaced or cleared ones are skipped lazily). */
  private peekValid(): Entry | undefined {
    while (this.heap.length > 0) {
      const top = this.heap[0]!;
      if (this.due.get(top.key) === top) return top;
      this.pop();
    }
    return undefined;
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.time <= entry.time) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.time < heap[left]!.time ? right : left;
      if (heap[child]!.time >= last.time) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
}
