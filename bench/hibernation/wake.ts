// Wake latency as a windowed scenario: the round trip of a message to a hibernated room, next to
// the round trip to the same room once awake (load/wake.ts). Bare has no hibernation, so its first
// round trip (to a room idle as long) is the reference the wake is compared with.
import { Histogram } from "../lib/histogram.js";
import type { WindowedScenario } from "../scenarios/types.js";
import type { HibernationSettings } from "./options.js";
import { isWakeResult } from "./load/wake-result.js";

export const WAKE_ROOM_PREFIX = "hib-wake";
/** The wake figure's absolute target (issue 5): p50 under 1 ms for a trivial onStart. */
export const WAKE_P50_TARGET_MS = 1;

export function wakeScenario(settings: HibernationSettings): WindowedScenario {
  return {
    kind: "windowed",
    id: "wake",
    title: "Round trip to a hibernated room (wake) and to an awake one",
    metrics: [
      { key: "wake.p50", label: "round trip to a hibernated room p50", unit: "ms", better: "lower" },
      { key: "wake.p99", label: "round trip to a hibernated room p99", unit: "ms", better: "lower" },
      { key: "awake.p50", label: "round trip to an awake room p50", unit: "ms", better: "lower" },
      { key: "awake.p99", label: "round trip to an awake room p99", unit: "ms", better: "lower" },
    ],
    loads(server) {
      const params = {
        host: server.host,
        port: server.port,
        rooms: settings.wakeRooms,
        roomPrefix: WAKE_ROOM_PREFIX,
        gapMs: settings.wakeGapMs,
        expectCold: server.name === "partyhouse",
      };
      // A script outside bench/load/: LoadProcess resolves the name relative to that folder.
      return [[{ role: "client", script: "../hibernation/load/wake", params }]];
    },
    summarize(results) {
      const cold = new Histogram();
      const awake = new Histogram();
      let notAsleep = 0;
      for (const { result } of results) {
        if (!isWakeResult(result)) throw new Error("the wake load returned no awake round trips");
        cold.merge(result.latency);
        awake.merge(result.awake);
        notAsleep += result.notAsleep;
      }
      return {
        "wake.p50": cold.percentile(0.5) / 1000,
        "wake.p99": cold.percentile(0.99) / 1000,
        "awake.p50": awake.percentile(0.5) / 1000,
        "awake.p99": awake.percentile(0.99) / 1000,
        "wake.samples": cold.total,
        "wake.notAsleep": notAsleep,
      };
    },
  };
}
