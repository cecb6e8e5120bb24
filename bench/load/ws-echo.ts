// Echo load: `sockets` WebSockets in one room, each with exactly one message outstanding; a reply
// triggers the next send. Sockets are all open before any window, so only round trips are timed.
import { performance } from "node:perf_hooks";
import { hostLoad } from "../lib/load-host.js";
import { Histogram } from "../lib/histogram.js";
import { openMany, textFrame, type RawWebSocket } from "../lib/ws-raw.js";
import { localDeadlines, drain } from "../lib/window-timing.js";

interface Params {
  host: string;
  port: number;
  sockets: number;
  room: string;
  payloadBytes: number;
}

let sockets: RawWebSocket[] = [];
let frame: Buffer;

hostLoad<Params>({
  async setup(p) {
    frame = textFrame("echo:".padEnd(p.payloadBytes, "x"));
    sockets = await openMany(p.host, p.port, () => `/parties/main/${p.room}`, p.sockets);
  },

  async window(window) {
    const { end } = await localDeadlines(window);
    const latency = new Histogram();
    let ops = 0;
    let errors = 0;
    let inFlight = 0;
    for (const socket of sockets) {
      let sentAt = 0;
      const send = () => {
        inFlight++;
        sentAt = performance.now();
        socket.sendFrame(frame);
      };
      socket.onMessage = () => {
        inFlight--;
        const now = performance.now();
        if (now <= end) {
          ops++;
          latency.record((now - sentAt) * 1000);
          send();
        }
      };
      socket.onClose = () => {
        if (inFlight > 0) inFlight--;
        errors++;
      };
      send();
    }
    await drain(() => inFlight === 0, end);
    return { ops, errors, latency: latency.toData() };
  },

  async teardown() {
    for (const socket of sockets) socket.close();
  },
});
