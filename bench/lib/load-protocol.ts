// What the runner and a load process say to each other over the fork IPC channel.
import type { HistogramData } from "./histogram.js";

/** A measurement window on the shared clock (see clock.ts): load runs from startUs to endUs. */
export interface Window {
  startUs: number;
  endUs: number;
}

export interface WindowResult {
  /** Operations completed inside the window (requests, round trips, deliveries). */
  ops: number;
  errors: number;
  /** Latency of those operations in µs (empty when the script does not time them). */
  latency: HistogramData;
  /** CPU seconds this load process used during the window; near the window length means saturated. */
  cpuSeconds: number;
}

export type CommandBody = { op: "setup"; params: unknown } | { op: "window"; window: Window } | { op: "teardown" };

export type Command = CommandBody & { id: number };

export type Reply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: string };
