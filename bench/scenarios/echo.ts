// WebSocket echo: round trips/s and their latency with 50 sockets, one message outstanding each.
import type { WindowedScenario } from "./types.js";
import { cpuPerOp, mergedLatency, totalOps } from "./summarize.js";

export const echo: WindowedScenario = {
  kind: "windowed",
  id: "echo",
  title: "WebSocket echo, 50 sockets, one message outstanding each",
  metrics: [
    { key: "echo.rps", label: "WS echo round trips/s", unit: "/s", better: "higher", target: 0.9 },
    { key: "echo.p50", label: "WS echo p50", unit: "ms", better: "lower" },
    { key: "echo.p99", label: "WS echo p99", unit: "ms", better: "lower" },
    { key: "echo.cpu", label: "server CPU per echo", unit: "µs", better: "lower" },
  ],
  loads: (server, settings) => [
    [
      {
        role: "client",
        script: "ws-echo",
        params: { host: server.host, port: server.port, sockets: settings.echoSockets, room: "echo-room", payloadBytes: settings.payloadBytes },
      },
    ],
  ],
  summarize(results, seconds, cpu) {
    const ops = totalOps(results);
    const latency = mergedLatency(results);
    return {
      "echo.rps": ops / seconds,
      "echo.p50": latency.percentile(0.5) / 1000,
      "echo.p99": latency.percentile(0.99) / 1000,
      "echo.cpu": cpuPerOp(cpu, ops),
    };
  },
};
