// Idle sockets for the memory scenario: open `sockets` WebSockets to one room and hold them, silent,
// until teardown. A window only reports how many are still open.
import { hostLoad } from "../lib/load-host.js";
import { openMany, type RawWebSocket } from "../lib/ws-raw.js";
import { sleepUntil } from "../lib/clock.js";

interface Params {
  host: string;
  port: number;
  sockets: number;
  room: string;
}

let sockets: RawWebSocket[] = [];

hostLoad<Params>({
  async setup(p) {
    sockets = await openMany(p.host, p.port, () => `/parties/main/${p.room}`, p.sockets, 200);
  },

  async window(window) {
    await sleepUntil(window.endUs);
    const open = sockets.filter((s) => !s.closed).length;
    return { ops: open, errors: sockets.length - open, latency: [] };
  },

  async teardown() {
    for (const socket of sockets) socket.close();
  },
});
