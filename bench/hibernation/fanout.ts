// Broadcast fan-out in one hibernating room, as a windowed scenario for the harness's
// drive-windows.ts with its ws-fanout load: receivers in several processes, then one sender keeping
// broadcasts outstanding. Between windows the room falls asleep (the other server's window lasts
// longer than --hibernate-after), so each window starts with the sender's message waking it.
import type { LoadSpec, WindowedScenario } from "../scenarios/types.js";
import { cpuPerOp, mergedLatency, totalOps } from "../scenarios/summarize.js";
import { MAX_SOCKETS_PER_PROCESS } from "./options.js";

export const FANOUT_PAYLOAD_BYTES = 32;

/** Broadcasts kept outstanding: 8 as in the main bench at 1k; at 10k one broadcast is already a long batch. */
export function fanoutInFlight(sockets: number): number {
  return sockets > 5000 ? 2 : 8;
}

export function fanoutRoom(sockets: number): string {
  return `hib-fanout-${sockets}`;
}

export function fanoutScenario(sockets: number): WindowedScenario {
  const k = `fanout${sockets}`;
  const size = sockets.toLocaleString("en-US");
  return {
    kind: "windowed",
    id: k,
    title: `Broadcast fan-out to ${size} sockets in one hibernating room`,
    metrics: [
      { key: `${k}.dps`, label: `fan-out deliveries/s, ${size} sockets`, unit: "/s", better: "higher", target: 1.0 },
      { key: `${k}.p50`, label: `fan-out p50, ${size} sockets`, unit: "ms", better: "lower" },
      { key: `${k}.p99`, label: `fan-out p99, ${size} sockets`, unit: "ms", better: "lower" },
      { key: `${k}.cpu`, label: `server CPU per delivery, ${size} sockets`, unit: "µs", better: "lower" },
    ],
    loads(server) {
      const base = { host: server.host, port: server.port, room: fanoutRoom(sockets), payloadBytes: FANOUT_PAYLOAD_BYTES };
      // At least two receiver processes, so one client's parsing is not the limit.
      const processes = Math.max(2, Math.ceil(sockets / MAX_SOCKETS_PER_PROCESS));
      const receivers: LoadSpec[] = Array.from({ length: processes }, (_, i) => ({
        role: "receivers",
        script: "ws-fanout",
        params: { ...base, role: "receivers", sockets: Math.floor(sockets / processes) + (i < sockets % processes ? 1 : 0), inFlight: 0 },
      }));
      // The sender joins last, so its own copy of a broadcast (which releases the next) comes last.
      const sender: LoadSpec = { role: "sender", script: "ws-fanout", params: { ...base, role: "sender", sockets: 1, inFlight: fanoutInFlight(sockets) } };
      return [receivers, [sender]];
    },
    summarize(results, seconds, cpu) {
      const deliveries = totalOps(results, "receivers");
      const latency = mergedLatency(results, "receivers");
      return {
        [`${k}.dps`]: deliveries / seconds,
        [`${k}.p50`]: latency.percentile(0.5) / 1000,
        [`${k}.p99`]: latency.percentile(0.99) / 1000,
        [`${k}.cpu`]: cpuPerOp(cpu, deliveries),
        [`${k}.broadcasts`]: totalOps(results, "sender") / seconds,
      };
    },
  };
}
