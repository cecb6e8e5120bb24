// The first broadcast after a wake, in a hibernating room holding many sockets (issue 23: 10,000
// sockets, every one reached with p99 ≤ 1 s). The ws-fanout sender sends one broadcast, waits for
// its own copy, rests past --hibernate-after (the room hibernates) and sends the next one, so every
// broadcast on partyhouse wakes the room; the receivers time each delivery from the send
// timestamp. Bare has no hibernation: its figure is the same broadcast to a room idle as long.
import type { LoadSpec, WindowedScenario } from "../scenarios/types.js";
import { mergedLatency, totalOps } from "../scenarios/summarize.js";
import { FANOUT_PAYLOAD_BYTES } from "./fanout.js";
import { MAX_SOCKETS_PER_PROCESS } from "./options.js";

/** The absolute target for the p99 delivery of the first message after a wake. */
export const WAKE_FANOUT_P99_TARGET_MS = 1000;
/** Longer than --hibernate-after (50 ms) plus the project's sweep interval, so the room is asleep. */
export const WAKE_FANOUT_REST_MS = 250;
/** The last broadcast of a window starts at least this long before its end (see ws-fanout's tailMs). */
const TAIL_MS = 1500;
/** Windows long enough for several wakes each after the tail is left out. */
export const WAKE_FANOUT_WINDOW_MS = 4000;

export function wakeFanoutRoom(sockets: number): string {
  return `hib-wake-fanout-${sockets}`;
}

export function wakeFanoutScenario(sockets: number): WindowedScenario {
  const k = `wakefanout${sockets}`;
  const size = sockets.toLocaleString("en-US");
  return {
    kind: "windowed",
    id: k,
    title: `First broadcast after a wake, to ${size} sockets in one hibernating room`,
    metrics: [
      { key: `${k}.p50`, label: `first broadcast after a wake p50, ${size} sockets`, unit: "ms", better: "lower" },
      { key: `${k}.p99`, label: `first broadcast after a wake p99, ${size} sockets`, unit: "ms", better: "lower" },
      { key: `${k}.max`, label: `first broadcast after a wake max, ${size} sockets`, unit: "ms", better: "lower" },
    ],
    loads(server) {
      const base = { host: server.host, port: server.port, room: wakeFanoutRoom(sockets), payloadBytes: FANOUT_PAYLOAD_BYTES };
      const processes = Math.max(2, Math.ceil(sockets / MAX_SOCKETS_PER_PROCESS));
      const receivers: LoadSpec[] = Array.from({ length: processes }, (_, i) => ({
        role: "receivers",
        script: "ws-fanout",
        params: { ...base, role: "receivers", sockets: Math.floor(sockets / processes) + (i < sockets % processes ? 1 : 0), inFlight: 0 },
      }));
      const sender: LoadSpec = {
        role: "sender",
        script: "ws-fanout",
        params: { ...base, role: "sender", sockets: 1, inFlight: 1, restMs: WAKE_FANOUT_REST_MS, tailMs: TAIL_MS },
      };
      return [receivers, [sender]];
    },
    summarize(results, seconds) {
      const latency = mergedLatency(results, "receivers");
      const broadcasts = totalOps(results, "sender");
      return {
        [`${k}.p50`]: latency.percentile(0.5) / 1000,
        [`${k}.p99`]: latency.percentile(0.99) / 1000,
        [`${k}.max`]: latency.percentile(1) / 1000,
        [`${k}.broadcasts`]: broadcasts,
        // Every broadcast should reach every receiver inside the window: a shortfall is reported.
        [`${k}.missing`]: broadcasts * sockets - totalOps(results, "receivers"),
        [`${k}.seconds`]: seconds,
      };
    },
  };
}
