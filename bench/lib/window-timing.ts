// Shared by load scripts: turn a window on the shared clock into performance.now() deadlines (cheap
// to read per operation), and wait for in-flight work to finish after the window closes.
import { performance } from "node:perf_hooks";
import { nowUs, sleep, sleepUntil } from "./clock.js";
import type { Window } from "./load-protocol.js";

/** Waits for window start; returns start and end as performance.now() values. */
export async function localDeadlines(window: Window): Promise<{ start: number; end: number }> {
  await sleepUntil(window.startUs);
  const offsetMs = performance.now() - nowUs() / 1000;
  return { start: window.startUs / 1000 + offsetMs, end: window.endUs / 1000 + offsetMs };
}

/** Resolves once `idle()` holds, polling, or `graceMs` after `endMs` at the latest. */
export async function drain(idle: () => boolean, endMs: number, graceMs = 10_000): Promise<void> {
  while (!idle() && performance.now() < endMs + graceMs) await sleep(5);
}
