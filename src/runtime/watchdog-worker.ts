/**
 * The watchdog's thread (see watchdog.ts). Writes its log lines with writeSync on fd 2 itself:
 * a worker's console goes through the main thread, which is exactly what is blocked.
 */
import { writeSync } from "node:fs";
import { Session } from "node:inspector";
import { workerData as rawWorkerData } from "node:worker_threads";
import { HEARTBEAT, MAIN_HOOK, SHUTDOWN_DEADLINE, STALL_EXIT_CODE, type StallReport, type WatchdogWorkerData } from "./watchdog-protocol.js";

const data = rawWorkerData as WatchdogWorkerData;
const beats = new Int32Array(data.shared, 0, 1);
const deadline = new Float64Array(data.shared);
const session = new Session();
session.connectToMainThread();

/**
 * A gap between two of this thread's own ticks longer than this means the whole process was
 * stopped (SIGSTOP, a VM pause, a suspended machine): a blocked main thread never delays this
 * thread, which has its own event loop. Far above a tick (pollMs, at most 50 ms) plus the
 * scheduling delay a busy machine usually gives a thread. Short, because a stop counted as
 * blocked time adds to whatever the main thread was running: with 1 s here, a 1 s stop was
 * logged as a blocked loop naming an innocent room, and a 0.9 s stop during a 0.6 s handler
 * made 1.5 s, the process's end under --max-event-ms 1500 (found by the cluster fault test).
 * Mistaking a rarer, longer scheduling delay for a stop only holds a real stall's end back by
 * that delay.
 */
const STOPPED_AFTER_MS = Math.max(250, 5 * data.pollMs);

// Monotonic time: a wall clock stepped by NTP must not look like a stall either.
let lastBeat = Atomics.load(beats, HEARTBEAT);
let lastChange = performance.now();
let lastTick = lastChange;
let warned = false;
let disarmed = false;
let ending = false;

setInterval(() => {
  const now = performance.now();
  const gap = now - lastTick;
  lastTick = now;
  if (gap > STOPPED_AFTER_MS) {
    // This thread was stopped with the main thread, so that time is nobody's stall: move the
    // start of the current stall forward by it. The main thread (which resumed with us) then
    // has as long as ever to turn its loop; a handler really blocking it is still caught, its
    // blocked time measured without the stop. The node's lease is checked by the main thread
    // itself before it delivers any event (cluster mode), not here.
    lastChange = Math.min(now, lastChange + gap - data.pollMs);
    log("warn", "process was stopped (not scheduled at all), not blocked", { stoppedMs: Math.round(gap) });
  }
  const beat = Atomics.load(beats, HEARTBEAT);
  if (beat !== lastBeat) {
    if (warned) log("warn", "event loop running again", { blockedMs: Math.round(now - lastChange) });
    lastBeat = beat;
    lastChange = now;
    warned = false;
    disarmed = false;
  }
  const blockedMs = Math.round(now - lastChange);
  const shutdownBy = deadline[SHUTDOWN_DEADLINE]!;
  if (!ending && shutdownBy > 0 && Date.now() > shutdownBy) {
    end("shutdown did not finish in time; exiting", { blockedMs });
    return;
  }
  if (!disarmed && blockedMs >= data.disarmAfterMs) {
    // Early and cheap: from here a SIGTERM ends the process at once (see watchdog.ts).
    disarmed = true;
    void askMain();
  }
  if (!warned && blockedMs >= data.warnAfterMs) {
    warned = true;
    void askMain().then((report) => {
      if (!ending) log("error", "event loop blocked", { ...describe(report), blockedMs: Math.round(performance.now() - lastChange), maxEventMs: data.maxEventMs });
    });
  }
  if (!ending && blockedMs >= data.maxEventMs) {
    void askMain().then((report) => end("event blocked the event loop longer than max-event-ms; exiting", { ...describe(report), blockedMs }));
    ending = true;
  }
}, data.pollMs);

/** Runs the main thread's hook inside the blocked code; null if it cannot answer (native code). */
function askMain(): Promise<StallReport | null> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), 500);
    session.post(
      "Runtime.evaluate",
      { expression: `globalThis[Symbol.for(${JSON.stringify(MAIN_HOOK)})]?.stalled()`, returnByValue: true },
      (error, result) => {
        clearTimeout(timer);
        resolve(error ? null : ((result?.result?.value as StallReport | undefined) ?? null));
      },
    );
  });
}

function describe(report: StallReport | null): Record<string, unknown> {
  if (report === null) return { running: "unknown (blocked outside JavaScript)" };
  if (report.kind === "") return { running: "not a room event (startup or server code)" };
  return report.active
    ? { party: report.party, room: report.room, kind: report.kind }
    : { party: report.party, room: report.room, kind: report.kind, running: "code after an await or a timer; last event started named" };
}

/** Exits from the main thread if it can still run an interrupt, else kills the process. */
function end(event: string, fields: Record<string, unknown>): void {
  ending = true;
  log("error", event, { ...fields, exitCode: STALL_EXIT_CODE });
  session.post("Runtime.evaluate", { expression: `process.exit(${STALL_EXIT_CODE})` }, () => undefined);
  setTimeout(() => process.kill(process.pid, "SIGKILL"), 1000).unref();
}

function log(level: "warn" | "error", event: string, fields: Record<string, unknown>): void {
  const line =
    data.format === "json"
      ? JSON.stringify({ time: new Date().toISOString(), level, event, ...fields })
      : `[${level}] ${event} ${Object.entries(fields)
          .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
          .join(" ")}`;
  try {
    writeSync(2, line + "\n");
  } catch {
    // stderr gone: nothing else to tell
  }
}
