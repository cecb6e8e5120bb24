// Broadcast fan-out: one sender keeps a few broadcasts outstanding in a room of 1,000 receiving
// sockets (--fanout-sockets; split over several load processes); deliveries/s and send-to-receipt
// latency. The deliveries/s target holds against the tuned floor when it runs (`--servers ...,tuned`).
import type { LoadSpec, WindowedScenario } from "./types.js";
import { cpuPerOp, mergedLatency, totalOps } from "./summarize.js";

const MAX_SOCKETS_PER_PROCESS = 9000;

export const fanout: WindowedScenario = {
  kind: "windowed",
  id: "fanout",
  title: "Broadcast fan-out to many sockets in one room",
  metrics: [
    { key: "fanout.dps", label: "fan-out deliveries/s", unit: "/s", better: "higher", target: 1.0, floor: "tuned" },
    { key: "fanout.p50", label: "fan-out p50", unit: "ms", better: "lower" },
    { key: "fanout.p99", label: "fan-out p99", unit: "ms", better: "lower" },
    { key: "fanout.cpu", label: "server CPU per delivery", unit: "µs", better: "lower" },
  ],
  loads(server, settings) {
    const base = { host: server.host, port: server.port, room: "fanout-room", payloadBytes: settings.payloadBytes };
    // At most MAX_SOCKETS_PER_PROCESS each: a process holds at most 20,000 open files here.
    const processes = Math.max(settings.fanoutReceiverProcesses, Math.ceil(settings.fanoutSockets / MAX_SOCKETS_PER_PROCESS));
    const receivers: LoadSpec[] = Array.from({ length: processes }, (_, i) => ({
      role: "receivers",
      script: "ws-fanout",
      params: {
        ...base,
        role: "receivers",
        sockets: Math.floor(settings.fanoutSockets / processes) + (i < settings.fanoutSockets % processes ? 1 : 0),
        inFlight: 0,
      },
    }));
    // The sender joins after all receivers, so every broadcast it sends reaches all of them.
    const sender: LoadSpec = { role: "sender", script: "ws-fanout", params: { ...base, role: "sender", sockets: 1, inFlight: settings.fanoutInFlight } };
    return [receivers, [sender]];
  },
  summarize(results, seconds, cpu) {
    const deliveries = totalOps(results, "receivers");
    const latency = mergedLatency(results, "receivers");
    return {
      "fanout.dps": deliveries / seconds,
      "fanout.p50": latency.percentile(0.5) / 1000,
      "fanout.p99": latency.percentile(0.99) / 1000,
      "fanout.cpu": cpuPerOp(cpu, deliveries),
      "fanout.broadcasts": totalOps(results, "sender") / seconds,
    };
  },
};
