// Broadcast fan-out load, in two roles. "receivers" hold sockets in the room and count broadcasts
// that arrive inside the window, timing each from the send timestamp in its payload (the shared
// monotonic clock makes that valid across processes). "sender" keeps `inFlight` broadcasts
// outstanding: its own copy coming back (it is in the room too) releases the next one, so the
// server is kept busy without an unbounded queue. With `restMs`, the sender instead sends one
// broadcast at a time and rests that long after its copy came back (a hibernating room falls
// asleep in between, so every broadcast is the first message after a wake).
import { hostLoad } from "../lib/load-host.js";
import { Histogram } from "../lib/histogram.js";
import { nowUs, sleepUntil } from "../lib/clock.js";
import { openMany, RawWebSocket, textFrame } from "../lib/ws-raw.js";
import { drain } from "../lib/window-timing.js";
import { performance } from "node:perf_hooks";

interface Params {
  host: string;
  port: number;
  role: "receivers" | "sender";
  room: string;
  /** receivers: how many sockets. */
  sockets: number;
  /** sender: broadcasts outstanding at once. */
  inFlight: number;
  /** sender: if set, one broadcast at a time, each sent this long after the previous one came back. */
  restMs?: number;
  /**
   * sender with restMs: no broadcast starts later than this before the window ends, so that each
   * reaches every receiver inside the window (later deliveries are not counted, and leaving them
   * out would flatter the percentiles).
   */
  tailMs?: number;
  payloadBytes: number;
}

const PREFIX = "bcast:";
const COLON = 0x3a;

let params: Params;
let sockets: RawWebSocket[] = [];

/** Reads the decimal timestamp after "bcast:" without allocating a string. */
function sentAtUs(payload: Buffer): number {
  let value = 0;
  for (let i = PREFIX.length; i < payload.length; i++) {
    const byte = payload[i];
    if (byte === COLON) break;
    value = value * 10 + (byte - 0x30);
  }
  return value;
}

function broadcastFrame(payloadBytes: number): Buffer {
  return textFrame(`${PREFIX}${nowUs()}:`.padEnd(payloadBytes, "x"));
}

hostLoad<Params>({
  async setup(p) {
    params = p;
    const count = p.role === "sender" ? 1 : p.sockets;
    sockets = await openMany(p.host, p.port, () => `/parties/main/${p.room}`, count);
  },

  async window(window) {
    return params.role === "sender" ? sendDuring(window.startUs, window.endUs) : receiveDuring(window.startUs, window.endUs);
  },

  async teardown() {
    for (const socket of sockets) socket.close();
  },
});

async function receiveDuring(startUs: number, endUs: number) {
  const latency = new Histogram();
  let ops = 0;
  // performance.now() reads the same monotonic clock as hrtime without a BigInt per message.
  const offsetUs = nowUs() - performance.now() * 1000;
  for (const socket of sockets) {
    socket.onMessage = (payload) => {
      const sent = sentAtUs(payload);
      if (sent < startUs) return; // a straggler from before the window
      const now = performance.now() * 1000 + offsetUs;
      if (now > endUs) return;
      ops++;
      latency.record(now - sent);
    };
  }
  await sleepUntil(endUs);
  for (const socket of sockets) socket.onMessage = () => {};
  return { ops, errors: sockets.filter((s) => s.closed).length, latency: latency.toData() };
}

async function sendDuring(startUs: number, endUs: number) {
  const [socket] = sockets;
  const latency = new Histogram();
  let sent = 0;
  let outstanding = 0;
  const send = () => {
    outstanding++;
    sent++;
    socket.sendFrame(broadcastFrame(params.payloadBytes));
  };
  const rest = params.restMs ?? 0;
  let timer: NodeJS.Timeout | undefined;
  socket.onMessage = (payload) => {
    outstanding--;
    const now = nowUs();
    latency.record(now - sentAtUs(payload));
    if (rest > 0) {
      if (now + (rest + (params.tailMs ?? 0)) * 1000 < endUs) timer = setTimeout(send, rest);
    } else if (now < endUs) send();
  };
  await sleepUntil(startUs);
  for (let i = 0; i < (rest > 0 ? 1 : params.inFlight); i++) send();
  await sleepUntil(endUs);
  await drain(() => outstanding <= 0, performance.now());
  clearTimeout(timer);
  // ops here are broadcasts sent; latency is the sender's own copy (send to echo of the broadcast).
  return { ops: sent, errors: socket.closed ? 1 : 0, latency: latency.toData() };
}
