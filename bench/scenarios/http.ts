// HTTP scenarios: requests/s to one room over keep-alive connections, and new rooms/s where every
// request is the first one to its room id.
import type { WindowedScenario } from "./types.js";
import { cpuPerOp, mergedLatency, totalOps } from "./summarize.js";

interface HttpVariant {
  id: string;
  title: string;
  mode: "fixed" | "fresh";
  /** What one operation is called in row labels. */
  op: string;
  rateLabel: string;
  target?: number;
  /** Appended to the room path (the party's "/put" awaits a storage write). */
  suffix?: string;
}

function httpScenario(v: HttpVariant): WindowedScenario {
  return {
    kind: "windowed",
    id: v.id,
    title: v.title,
    metrics: [
      { key: `${v.id}.rps`, label: v.rateLabel, unit: "/s", better: "higher", ...(v.target !== undefined ? { target: v.target } : {}) },
      { key: `${v.id}.p99`, label: `${v.op} p99`, unit: "ms", better: "lower" },
      { key: `${v.id}.cpu`, label: `server CPU per ${v.op}`, unit: "µs", better: "lower" },
    ],
    loads: (server, settings) => [
      [
        {
          role: "client",
          script: "http",
          params: {
            host: server.host,
            port: server.port,
            connections: settings.httpConnections,
            mode: v.mode,
            // New-room ids carry the server name and a time so no id is ever reused.
            room: v.mode === "fixed" ? `${v.id}-room` : `new-${server.name}-${Date.now().toString(36)}`,
            ...(v.suffix ? { suffix: v.suffix } : {}),
          },
        },
      ],
    ],
    summarize(results, seconds, cpu) {
      const ops = totalOps(results);
      return {
        [`${v.id}.rps`]: ops / seconds,
        [`${v.id}.p99`]: mergedLatency(results).percentile(0.99) / 1000,
        [`${v.id}.cpu`]: cpuPerOp(cpu, ops),
      };
    },
  };
}

export const httpOneRoom = httpScenario({
  id: "http",
  title: "HTTP GET to one room, 32 keep-alive connections",
  mode: "fixed",
  op: "HTTP request",
  rateLabel: "HTTP requests/s, one room",
  target: 0.8,
});

export const newRooms = httpScenario({
  id: "rooms",
  title: "First HTTP GET to a fresh room id each time, 32 keep-alive connections",
  mode: "fresh",
  op: "new room",
  rateLabel: "new rooms/s",
  target: 0.8,
});

/**
 * Each request awaits one durable storage write before its answer (issue 4's "HTTP requests that
 * put"). bare does the same write by hand: one better-sqlite3 commit per request, synchronous=FULL.
 * partyhouse group-commits the writes of concurrent requests, so it may beat that floor.
 */
export const httpPuts = httpScenario({
  id: "put",
  title: "HTTP requests that await a durable storage write, one room, 32 keep-alive connections",
  mode: "fixed",
  op: "durable put",
  rateLabel: "HTTP requests that put/s",
  suffix: "/put",
});
