/** What the main thread and the watchdog worker share (watchdog.ts, watchdog-worker.ts). */

/** Int32Array(shared)[0]: heartbeat counter, bumped by the main thread while its event loop turns. */
export const HEARTBEAT = 0;
/** Float64Array(shared)[1]: epoch ms by which a started shutdown must be over, or 0. */
export const SHUTDOWN_DEADLINE = 1;
export const SHARED_BYTES = 16;

/** Exit status when an event blocked the loop past --max-event-ms (EX_SOFTWARE). */
export const STALL_EXIT_CODE = 70;

/** The global the worker's inspector expression calls on the (stalled) main thread. */
export const MAIN_HOOK = "partyhouse.watchdog";

export interface WatchdogWorkerData {
  shared: SharedArrayBuffer;
  /** Give SIGTERM/SIGINT their default action (exit) once the loop is blocked this long. */
  disarmAfterMs: number;
  /** Log a stall once the loop is blocked this long. */
  warnAfterMs: number;
  /** End the process once the loop is blocked this long. */
  maxEventMs: number;
  /** How often the worker looks. */
  pollMs: number;
  format: "json" | "pretty";
}

/** What the main thread reports about itself when the worker asks during a stall. */
export interface StallReport {
  party: string;
  room: string;
  kind: string;
  /** Whether that event's synchronous part is what is running (else it is the last one that started). */
  active: boolean;
}
