// Heap per idle room: many fresh rooms, each created by one HTTP request and left without sockets.
// partyhouse keeps such a room (hibernated at once here) until it has been idle for its eviction
// delay (15 s); bare keeps a Set per room forever. Read before that delay runs out, and, in full
// mode, again after it, to show that eviction gives the memory back.
import { LoadProcess } from "../lib/load-process.js";
import { nowUs, sleep } from "../lib/clock.js";
import type { RunningServer } from "../servers/server-handle.js";
import { readMemory, type MemoryReading } from "./server-memory.js";

/** partyhouse's DEFAULT_EVICT_AFTER_MS; the CLI has no flag for it. */
export const EVICT_AFTER_MS = 15_000;
const CONNECTIONS = 16;
/** Rooms are created in short windows, so the last one ends soon after the count is reached. */
const WINDOW_US = 200_000;

export interface IdleRooms {
  rooms: number;
  /** Seconds the requests took; the reading must come well inside the eviction delay. */
  createSeconds: number;
  before: MemoryReading;
  after: MemoryReading;
  heapPerRoom: number;
  rssPerRoom: number;
  /** Heap per room still held once the eviction delay has passed (partyhouse, full mode). */
  afterEviction?: { reading: MemoryReading; heapPerRoom: number };
}

export async function idleRoomMemory(server: RunningServer, count: number, checkEviction: boolean): Promise<IdleRooms> {
  const before = await readMemory(server);
  const params = { host: server.host, port: server.port, connections: CONNECTIONS, count, roomPrefix: "fresh" };
  const load = await LoadProcess.start(`${server.name} new rooms`, "../hibernation/load/new-rooms", params);
  let created = 0;
  const startedUs = nowUs();
  try {
    while (created < count) {
      if (nowUs() - startedUs > (EVICT_AFTER_MS / 2) * 1000) throw new Error(`${server.name}: only ${created} rooms created in ${EVICT_AFTER_MS / 2} ms`);
      const startUs = nowUs() + 20_000;
      const result = await load.window({ startUs, endUs: startUs + WINDOW_US });
      if (result.errors > 0) throw new Error(`${server.name}: ${result.errors} errors creating rooms`);
      created += result.ops;
    }
  } finally {
    await load.stop();
  }
  const createSeconds = (nowUs() - startedUs) / 1e6;
  await sleep(300); // partyhouse's rooms hibernate (their instances go) well within this
  const after = await readMemory(server);
  const out: IdleRooms = {
    rooms: created,
    createSeconds,
    before,
    after,
    heapPerRoom: (after.heapUsed - before.heapUsed) / created,
    rssPerRoom: (after.rss - before.rss) / created,
  };
  if (checkEviction && server.name === "partyhouse") {
    // By then every room has been idle past the delay; partyhouse sweeps every 25 ms here.
    await sleep(EVICT_AFTER_MS + 1000);
    const reading = await readMemory(server);
    out.afterEviction = { reading, heapPerRoom: (reading.heapUsed - before.heapUsed) / created };
  }
  return out;
}
