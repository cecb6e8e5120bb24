/**
 * The watchdog: a worker thread that notices when the main thread's event loop stops turning
 * (a handler in `while (true) {}`, a huge synchronous job) and acts where the main thread can't.
 *
 * - The main thread bumps a shared counter every HEARTBEAT_MS from a timer; the worker polls it.
 * - Blocked for DISARM_AFTER_MS (200 ms): the worker has the main thread, through the
 *   inspector (V8 runs the request as an interrupt, inside the blocked code), drop its
 *   SIGTERM/SIGINT listeners, so the signals' default action (exit) applies while blocked: a JS
 *   signal handler cannot run on a blocked loop, and a worker cannot receive signals at all
 *   (tested on Node 22, 24, 26). When the loop turns again, the listeners are restored. A
 *   signal that arrived before that point was taken by libuv for the listener that is then
 *   dropped, so it is lost (measured); hence the short delay, kept well above ordinary turns.
 * - Blocked for `warnAfterMs` (1 s): it asks which party, room and event kind are running, and
 *   logs that.
 * - Blocked for `maxEventMs` (Cloudflare's CPU limit, 30 s): the process exits with 70 so a
 *   supervisor restarts it.
 * - A shutdown that has begun must end by its deadline, even if user code blocks it.
 * - A stopped process is not a blocked loop: when the whole process is stopped (SIGSTOP, a VM
 *   pause) the worker is stopped too, so on resume its own monotonic clock has jumped far beyond
 *   its tick in one step, which a blocked main thread can never cause. That time is not counted
 *   as blocked (watchdog-worker.ts), so a paused node is not ended with 70 for a handler that was
 *   not running; a cluster node checks its lease deadline before it delivers any event instead.
 *
 * Cost on the main thread: a timer every 50 ms, and a few property writes per event
 * (running-event.ts). Everything else happens on the worker.
 */
import { Worker } from "node:worker_threads";
import type { Logger } from "./logger.js";
import { runningEvent } from "./running-event.js";
import {
  HEARTBEAT,
  MAIN_HOOK,
  SHARED_BYTES,
  SHUTDOWN_DEADLINE,
  type StallReport,
  type WatchdogWorkerData,
} from "./watchdog-protocol.js";

export const DEFAULT_MAX_EVENT_MS = 30_000;
export const DEFAULT_STALL_WARN_MS = 1_000;
export const DISARM_AFTER_MS = 200;
const HEARTBEAT_MS = 50;
const SIGNALS = ["SIGTERM", "SIGINT"] as const;

export interface WatchdogOptions {
  maxEventMs?: number;
  /** Default 1 s, or half of maxEventMs if that is shorter. */
  warnAfterMs?: number;
  format: "json" | "pretty";
  logger: Logger;
}

export interface Watchdog {
  /** A graceful shutdown began; the worker ends the process if it is not over within `ms`. */
  shutdownStarted(ms: number): void;
  stop(): Promise<void>;
}

type Listener = (...args: unknown[]) => void;

export function startWatchdog(options: WatchdogOptions): Watchdog {
  const maxEventMs = options.maxEventMs ?? DEFAULT_MAX_EVENT_MS;
  const warnAfterMs = options.warnAfterMs ?? Math.max(1, Math.min(DEFAULT_STALL_WARN_MS, Math.floor(maxEventMs / 2)));
  const shared = new SharedArrayBuffer(SHARED_BYTES);
  const beats = new Int32Array(shared, 0, 1);
  const deadline = new Float64Array(shared);
  let disarmed: Map<string, Listener[]> | null = null;

  const rearm = () => {
    if (disarmed === null) return;
    for (const [signal, listeners] of disarmed) for (const listener of listeners) process.on(signal, listener);
    disarmed = null;
  };
  // Called by the worker through the inspector, on this thread, while the loop is blocked.
  const hook = {
    stalled(): StallReport {
      if (disarmed === null) {
        disarmed = new Map();
        for (const signal of SIGNALS) {
          disarmed.set(signal, process.listeners(signal) as Listener[]);
          process.removeAllListeners(signal);
        }
      }
      return { party: runningEvent.party, room: runningEvent.room, kind: runningEvent.kind, active: runningEvent.active };
    },
  };
  (globalThis as Record<symbol, unknown>)[Symbol.for(MAIN_HOOK)] = hook;

  const heartbeat = setInterval(() => {
    Atomics.add(beats, HEARTBEAT, 1);
    rearm();
  }, HEARTBEAT_MS);
  heartbeat.unref();

  const disarmAfterMs = Math.min(DISARM_AFTER_MS, warnAfterMs);
  const workerData: WatchdogWorkerData = { shared, disarmAfterMs, warnAfterMs, maxEventMs, pollMs: Math.min(HEARTBEAT_MS, warnAfterMs), format: options.format };
  const worker = new Worker(workerUrl(), { workerData, stdout: false, stderr: false });
  worker.unref();
  worker.on("error", (error) => options.logger.log("error", "watchdog failed", { error: error.message }));

  return {
    shutdownStarted(ms) {
      deadline[SHUTDOWN_DEADLINE] = Date.now() + ms;
    },
    async stop() {
      clearInterval(heartbeat);
      rearm();
      delete (globalThis as Record<symbol, unknown>)[Symbol.for(MAIN_HOOK)];
      await worker.terminate();
    },
  };
}

/** The compiled worker next to this file; under tsx (tests) the .ts source. */
function workerUrl(): URL {
  return new URL(import.meta.url.endsWith(".ts") ? "./watchdog-worker.ts" : "./watchdog-worker.js", import.meta.url);
}
