// Time to get a document of 1 MB / 10 MB from a server that does not hold it in memory: on
// partyhouse/yjs a message to the hibernated room (socket kept open), and on both servers a fresh
// connection after the last one closed. Servers one after the other, so they never compete for CPU.
// Each document is 1,000 typed inserts of 1,000 / 10,000 characters: y-partykit writes its updates one
// by one behind its replies, and 10,000 updates took it minutes to persist on this machine.
import { Load } from "./ipc.js";
import type { YBenchSettings } from "./options.js";
import type { YBenchServer } from "./servers.js";

/**
 * Rest between two opens: y-partykit compacts a document (all of it, awaited write by write) each
 * time its last connection closes; opens 0.5 s apart queued those compactions until a 10 MB open
 * waited over 30 s. Both servers get the same rest.
 */
const OPEN_REST_MS = 2500;

interface Samples {
  times: number[];
  sizes: number[];
}

export interface WakeResult {
  sizeMB: number;
  stateBytes: number;
  /** Seconds until a fresh connection got the whole document (y-partykit persists behind its acks). */
  persistedAfterSeconds: number;
  /** Samples whose answer was smaller than the document (should be 0). */
  short: number;
  /** ms per sample */
  open: number[];
  /** partyhouse/yjs only */
  wake?: number[];
  /** Instances built while the wake samples ran (one per sample when every sample found the room hibernated). */
  wakes?: number;
}

export async function wakeTimes(server: YBenchServer, sizeMB: number, settings: YBenchSettings, log: (line: string) => void): Promise<WakeResult> {
  const room = `wake-${sizeMB}mb`;
  const path = `/parties/main/${room}`;
  const load = Load.start(`wake ${server.name}`, "wake");
  const seeder = Load.start(`seed ${server.name}`, "seed");
  try {
    const [stateBytes] = await seeder.call<number[]>("seed", { port: server.port, paths: [path], updates: 1000, chunk: sizeMB * 1000 }, 600_000);
    log(`${server.name}: ${room} seeded (${(stateBytes! / 1e6).toFixed(1)} MB state)`);
    // Only time loads of the whole document: wait until a fresh connection gets all of it.
    const whole = stateBytes! * 0.99;
    const seeded = Date.now();
    // Every probe's close makes y-partykit compact the document again: back off, so probing does
    // not keep it from catching up.
    for (let rest = OPEN_REST_MS; ; rest = Math.min(rest * 2, 40_000)) {
      const probe = await load.call<Samples>("open", { port: server.port, path, samples: 1, restMs: rest });
      if (probe.sizes[0]! >= whole) break;
      if (Date.now() - seeded > 300_000) throw new Error(`${server.name} never served the whole ${room} (${probe.sizes[0]} of ${stateBytes} bytes)`);
    }
    const persistedAfterSeconds = (Date.now() - seeded) / 1000;
    const open = await load.call<Samples>("open", { port: server.port, path, samples: settings.wakeSamples, restMs: OPEN_REST_MS });
    const result: WakeResult = { sizeMB, stateBytes: stateBytes!, persistedAfterSeconds, short: open.sizes.filter((s) => s < whole).length, open: open.times };
    if (server.name === "partyhouse/yjs") {
      const before = (await server.memory(room)).built;
      const wake = await load.call<Samples>("wake", { port: server.port, path, samples: settings.wakeSamples, restMs: settings.hibernateAfterMs + 700 });
      result.wake = wake.times;
      result.short += wake.sizes.filter((s) => s < whole).length;
      result.wakes = (await server.memory(room)).built - before;
    }
    return result;
  } finally {
    await Promise.all([load.stop(), seeder.stop()]);
  }
}
