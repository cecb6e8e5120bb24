// Wake latency load: one socket in each of `rooms` rooms. Every `gapMs / rooms` the next room gets a
// sample: a message (the round trip to a room idle for `gapMs`, long enough to hibernate), and on its
// reply a second one at once (the round trip to the same room awake). partyhouse's bench party marks
// the reply to a message that woke the room with ":cold"; bare echoes plainly and has no hibernation,
// so there both round trips are to an awake room. Samples are sent only inside the window.
import { performance } from "node:perf_hooks";
import { hostLoad } from "../../lib/load-host.js";
import { Histogram } from "../../lib/histogram.js";
import { openMany, textFrame, type RawWebSocket } from "../../lib/ws-raw.js";
import { drain, localDeadlines } from "../../lib/window-timing.js";
import { sleep } from "../../lib/clock.js";
import type { WakeWindowResult } from "./wake-result.js";

interface Params {
  host: string;
  port: number;
  rooms: number;
  roomPrefix: string;
  gapMs: number;
  /** partyhouse: a first reply without ":cold" means the room was awake, and the sample is left out. */
  expectCold: boolean;
}

const COLD_MARK = Buffer.from(":cold");

let params: Params;
let sockets: RawWebSocket[] = [];

hostLoad<Params>({
  async setup(p) {
    params = p;
    sockets = await openMany(p.host, p.port, (i) => `/parties/main/${p.roomPrefix}-${i}`, p.rooms, p.rooms);
  },

  async window(window): Promise<Omit<WakeWindowResult, "cpuSeconds">> {
    const { end } = await localDeadlines(window);
    const cold = new Histogram();
    const awake = new Histogram();
    let notAsleep = 0;
    let errors = 0;
    let seq = 0;
    const busy = new Set<RawWebSocket>();
    const sample = (socket: RawWebSocket) => {
      const id = seq++;
      busy.add(socket);
      let sentAt = 0;
      let second = false;
      socket.onMessage = (payload) => {
        const now = performance.now();
        if (!second) {
          const woke = payload.subarray(payload.length - COLD_MARK.length).equals(COLD_MARK);
          if (woke || !params.expectCold) cold.record((now - sentAt) * 1000);
          else notAsleep++;
          second = true;
          const frame = textFrame(`wake:${id}:again`);
          sentAt = performance.now();
          socket.sendFrame(frame);
          return;
        }
        awake.record((now - sentAt) * 1000);
        socket.onMessage = () => {};
        busy.delete(socket);
      };
      socket.onClose = () => {
        errors++;
        busy.delete(socket);
      };
      const frame = textFrame(`wake:${id}`);
      sentAt = performance.now();
      socket.sendFrame(frame);
    };
    // Rooms take turns; a room whose previous sample has not come back yet is skipped this turn.
    const stepMs = params.gapMs / params.rooms;
    let next = performance.now();
    for (let i = 0; next < end; i = (i + 1) % sockets.length) {
      const socket = sockets[i]!;
      if (!socket.closed && !busy.has(socket)) sample(socket);
      next += stepMs;
      await sleep(Math.max(0, next - performance.now()));
    }
    await drain(() => busy.size === 0, end);
    return { ops: cold.total, errors, latency: cold.toData(), awake: awake.toData(), notAsleep };
  },

  async teardown() {
    for (const socket of sockets) socket.close();
  },
});
