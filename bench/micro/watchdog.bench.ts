/**
 * What the watchdog costs the main thread per event: the two calls every room event makes
 * (running-event.ts), against the same loop without them; and a whole RoomEvents.dispatch of
 * a synchronous handler for scale. `node --import tsx bench/micro/watchdog.bench.ts`
 */
import { RoomEvents } from "../../src/runtime/room-events.js";
import { eventEnded, eventStarted } from "../../src/runtime/running-event.js";
import type { ServerInstance } from "../../src/runtime/party-definition.js";

const N = 20_000_000;
const label = { party: "main", room: "room-1" };
let sink = 0;

function bare(): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) sink += i & 1;
  return Number(process.hrtime.bigint() - start) / N;
}

function watched(): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) {
    eventStarted(label, "onMessage");
    sink += i & 1;
    eventEnded();
  }
  return Number(process.hrtime.bigint() - start) / N;
}

async function dispatch(): Promise<number> {
  const server = { onStart: () => undefined, hibernate: false, has: () => true } as unknown as ServerInstance;
  const events = new RoomEvents(() => server, label);
  await events.run(() => undefined);
  const M = 5_000_000;
  const body = () => {
    sink++;
  };
  const failed = () => undefined;
  const start = process.hrtime.bigint();
  for (let i = 0; i < M; i++) events.dispatch(body, failed, "onMessage");
  return Number(process.hrtime.bigint() - start) / M;
}

const rounds: Array<[number, number, number]> = [];
for (let r = 0; r < 5; r++) rounds.push([bare(), watched(), await dispatch()]);
const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const b = median(rounds.map((x) => x[0]));
const w = median(rounds.map((x) => x[1]));
const d = median(rounds.map((x) => x[2]));
console.log(`per event: loop alone ${b.toFixed(2)} ns, with eventStarted/eventEnded ${w.toFixed(2)} ns → watchdog cost ${(w - b).toFixed(2)} ns`);
console.log(`RoomEvents.dispatch of a synchronous handler (includes that cost): ${d.toFixed(1)} ns`);
if (sink === -1) console.log("");
