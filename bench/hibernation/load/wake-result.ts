// What the wake load reports per window: the harness's WindowResult (its latency being the round
// trip to a hibernated room) plus the awake round trips and the samples that found the room awake.
// The extra fields ride along because load-host.ts returns a load's whole result object.
import type { HistogramData } from "../../lib/histogram.js";
import type { WindowResult } from "../../lib/load-protocol.js";

export interface WakeWindowResult extends WindowResult {
  awake: HistogramData;
  notAsleep: number;
}

export function isWakeResult(result: WindowResult): result is WakeWindowResult {
  return Array.isArray((result as Partial<WakeWindowResult>).awake) && typeof (result as Partial<WakeWindowResult>).notAsleep === "number";
}
