// Memory per idle connected editor: `docs` documents (filled by an editor typing, then closed), then
// `editorsPerDoc` idle editors on each. Heap after GC and RSS of the server, (after − before) / editors.
// Both servers are measured at once, each with its own load processes.
import { Load } from "./ipc.js";
import type { YBenchSettings } from "./options.js";
import type { Memory, YBenchServer } from "./servers.js";

export interface MemoryResult {
  editors: number;
  docBytes: number;
  heapPerEditor: number;
  rssPerEditor: number;
  before: Memory;
  after: Memory;
}

const PER_PROCESS = 500;
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
  await sleep(2000);
  const before = await server.memory();
  const paths = docs.flatMap((path) => Array.from({ length: settings.editorsPerDoc }, () => path));
  const loads: Load[] = [];
  try {
    for (let i = 0; i < paths.length; i += PER_PROCESS) {
      const load = Load.start(`editors ${server.name} ${i}`, "idle-editors");
      loads.push(load);
      await load.call("connect", { port: server.port, paths: paths.slice(i, i + PER_PROCESS), firstClientId: 1000 + i, renewMs: settings.renewMs });
    }
    log(`${server.name}: ${paths.length} editors synced; idle for ${settings.settleMs / 1000} s`);
    await sleep(settings.settleMs);
    const after = await server.memory();
    return {
      editors: paths.length,
      docBytes: sizes[0]!,
      heapPerEditor: (after.heapUsed - before.heapUsed) / paths.length,
      rssPerEditor: (after.rss - before.rss) / paths.length,
      before,
      after,
    };
  } finally {
    await Promise.all(loads.map(async (load) => load.call("close").catch(() => {}).then(() => load.stop())));
    // y-partykit compacts each document when its last editor leaves: let that finish before what comes next.
    await sleep(2000);
  }
}
