// Memory per idle connected editor: `docs` documents (filled by an editor typing, then closed),
// then idle editors added in steps up to `editorsPerDoc` on each. After each step and `settleMs`
// idle: V8 heap after GC and process RSS of the server. Per editor is the least-squares slope over
// the readings, the first one taken with no editor once the seeded documents have left memory
// (read 2 s after seeding, it still held them, and (after − before) / editors came out negative).
// Both servers are measured at once, each with its own load processes.
import { slope } from "../lib/stats.js";
import { Load } from "./ipc.js";
import type { YBenchSettings } from "./options.js";
import type { Memory, YBenchServer } from "./servers.js";

export interface MemoryResult {
  editors: number;
  docBytes: number;
  heapPerEditor: number;
  rssPerEditor: number;
  /** Every reading: editors connected, and the server's memory then. */
  readings: Array<{ editors: number; memory: Memory }>;
  before: Memory;
  after: Memory;
}

const PER_PROCESS = 500;
/** Readings with editors connected (one more with none): the slope needs a few points. */
const STEPS = 3;
const DOCUMENTS_LEFT_MS = 35_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function idleEditorMemory(server: YBenchServer, settings: YBenchSettings, log: (line: string) => void): Promise<MemoryResult> {
  const docs = Array.from({ length: settings.docs }, (_, i) => `/parties/main/idle-${i}`);
  const seeder = Load.start(`seed ${server.name}`, "seed");
  let sizes: number[];
  try {
    sizes = await seeder.call<number[]>("seed", { port: server.port, paths: docs, updates: settings.docUpdates, chunk: settings.docChunk }, 600_000);
  } finally {
    await seeder.stop();
  }
  log(`${server.name}: ${docs.length} documents of ~${Math.round(sizes[0]! / 1024)} KiB state seeded`);
  // Rooms without sockets are evicted after 15 s and partyhouse/yjs drops a document after 30 s
  // without document traffic: past both, neither server holds a seeded document.
  await sleep(Math.max(settings.settleMs, DOCUMENTS_LEFT_MS));
  const readings: MemoryResult["readings"] = [{ editors: 0, memory: await server.memory() }];
  // Editors spread over the documents: each step adds some to every document.
  const paths = Array.from({ length: settings.editorsPerDoc }, () => docs).flat();
  const loads: Load[] = [];
  try {
    for (let step = 1; step <= STEPS; step++) {
      const from = Math.round(((step - 1) * paths.length) / STEPS);
      const to = Math.round((step * paths.length) / STEPS);
      for (let i = from; i < to; i += PER_PROCESS) {
        const load = Load.start(`editors ${server.name} ${i}`, "idle-editors");
        loads.push(load);
        const slice = paths.slice(i, Math.min(i + PER_PROCESS, to));
        await load.call("connect", { port: server.port, paths: slice, firstClientId: 1000 + i, renewMs: settings.renewMs });
      }
      log(`${server.name}: ${to} editors synced; idle for ${settings.settleMs / 1000} s`);
      await sleep(settings.settleMs);
      readings.push({ editors: to, memory: await server.memory() });
    }
    const x = readings.map((r) => r.editors);
    return {
      editors: paths.length,
      docBytes: sizes[0]!,
      heapPerEditor: slope(x, readings.map((r) => r.memory.heapUsed)),
      rssPerEditor: slope(x, readings.map((r) => r.memory.rss)),
      readings,
      before: readings[0]!.memory,
      after: readings.at(-1)!.memory,
    };
  } finally {
    await Promise.all(loads.map(async (load) => load.call("close").catch(() => {}).then(() => load.stop())));
    // y-partykit compacts each document when its last editor leaves: let that finish before what comes next.
    await sleep(2000);
  }
}
