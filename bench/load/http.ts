// HTTP load: `connections` keep-alive connections, one request in flight each, for one window at a
// time. "fixed" sends every request to one room; "fresh" sends each to a room id never used before,
// so every request is the first one to its room (the new-rooms scenario).
import { performance } from "node:perf_hooks";
import { hostLoad } from "../lib/load-host.js";
import { KeepAliveConnection } from "../lib/http-raw.js";
import { Histogram } from "../lib/histogram.js";
import { localDeadlines, drain } from "../lib/window-timing.js";
import type { Window } from "../lib/load-protocol.js";

interface Params {
  host: string;
  port: number;
  connections: number;
  mode: "fixed" | "fresh";
  /** Room id for "fixed"; id prefix for "fresh". */
  room: string;
  /** Appended to the room path, e.g. "/put" for the storage row. */
  suffix?: string;
}

let params: Params;
let connections: KeepAliveConnection[] = [];
let roomCounter = 0;

function nextPath(): string {
  const suffix = params.suffix ?? "";
  if (params.mode === "fixed") return `/parties/main/${params.room}${suffix}`;
  return `/parties/main/${params.room}-${process.pid}-${roomCounter++}${suffix}`;
}

hostLoad<Params>({
  async setup(p) {
    params = p;
    connections = Array.from({ length: p.connections }, () => new KeepAliveConnection(p.host, p.port));
  },

  async window(window: Window) {
    const { end } = await localDeadlines(window);
    const latency = new Histogram();
    let ops = 0;
    let errors = 0;
    let inFlight = 0;
    for (const connection of connections) {
      // A request left over from a server that stalled in the last window is abandoned.
      if (connection.busy) connection.reset();
      const send = () => {
        const sentAt = performance.now();
        inFlight++;
        connection.get(nextPath(), (status) => {
          inFlight--;
          const now = performance.now();
          if (status !== 200) errors++;
          else if (now <= end) {
            ops++;
            latency.record((now - sentAt) * 1000);
          }
          if (now < end) send();
        });
      };
      connection.onError = () => {
        errors++;
        inFlight--;
        if (performance.now() < end) send();
      };
      if (performance.now() < end) send();
    }
    await drain(() => inFlight === 0, end);
    return { ops, errors, latency: latency.toData() };
  },

  async teardown() {
    for (const connection of connections) connection.close();
  },
});
