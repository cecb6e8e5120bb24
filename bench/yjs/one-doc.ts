// Issue 23's Yjs scenario: real YPartyKitProvider editors (bench/yjs/load/providers.ts) all on ONE
// document, one 2 KB edit, then idle. Editors are added in steps (300, then up to 1,000); after
// each step and `settleMs` idle the server's process RSS and V8 heap after GC are read. Per editor
// is (reading − reading with no editor) / editors at each step, and the least-squares slope over
// all readings. The servers are measured one after the other: 1,000 real providers renew their
// awareness every 15 s, each renewal relayed to every other editor, and two such loads at once on
// this 2-core machine would leave the server's outgoing socket buffers full (RSS that is load,
// not idle editors).
import { slope } from "../lib/stats.js";
import { Load } from "./ipc.js";
import type { Memory, MessageCounts, YBenchServer } from "./servers.js";

export interface OneDocStep {
  editors: number;
  memory: Memory;
  rssPerEditor: number;
  heapPerEditor: number;
  /** Messages the server received / wrote during the idle time, scaled to 15 s (one awareness renewal period). */
  idleMessagesPer15s: MessageCounts;
}

export interface OneDocResult {
  room: string;
  editBytes: number;
  settleMs: number;
  before: Memory;
  steps: OneDocStep[];
  rssSlope: number;
  heapSlope: number;
}

const PER_PROCESS = 250;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function oneDocumentMemory(
  server: YBenchServer,
  settings: { oneDocEditors: number[]; editBytes: number; settleMs: number },
  log: (line: string) => void,
): Promise<OneDocResult> {
  const room = "one-doc";
  const before = await server.memory(room);
  const steps: OneDocStep[] = [];
  const loads: Load[] = [];
  let held = 0;
  try {
    for (const target of settings.oneDocEditors) {
      const added: Load[] = [];
      for (let first = held; first < target; first += PER_PROCESS) {
        const load = Load.start(`providers ${server.name} ${first}`, "providers");
        loads.push(load);
        added.push(load);
        await load.call("connect", { port: server.port, room, count: Math.min(PER_PROCESS, target - first), firstIndex: first });
      }
      // The one edit comes once the first editors are all there, so every one of them receives it;
      // later editors get it in their sync.
      const edit = held === 0;
      held = target;
      if (edit) await Promise.all(loads.map((load, i) => load.call("edit", { bytes: settings.editBytes, write: i === 0 })));
      else await Promise.all(added.map((load) => load.call("edit", { bytes: settings.editBytes, write: false })));
      log(`${server.name}: ${held} editors on one document, synced${edit ? ` with the ${settings.editBytes}-byte edit` : ""}; idle for ${settings.settleMs / 1000} s`);
      const idleFrom = await server.messages();
      const idleStart = Date.now();
      await sleep(settings.settleMs);
      const idleTo = await server.messages();
      const per15s = 15_000 / (Date.now() - idleStart);
      const memory = await server.memory(room);
      steps.push({
        editors: held,
        memory,
        rssPerEditor: (memory.rss - before.rss) / held,
        heapPerEditor: (memory.heapUsed - before.heapUsed) / held,
        idleMessagesPer15s: { in: (idleTo.in - idleFrom.in) * per15s, out: (idleTo.out - idleFrom.out) * per15s },
      });
      log(`  ${server.name} ${held} editors: rss ${((memory.rss - before.rss) / held / 1024).toFixed(2)} KiB/editor, heap ${((memory.heapUsed - before.heapUsed) / held / 1024).toFixed(2)} KiB/editor; live: ${memory.live.instances} instances, ${memory.live.docs} Y.Docs, ${memory.built} instances built so far (wakes + 1); idle messages per 15 s: ${Math.round(steps.at(-1)!.idleMessagesPer15s.in)} in, ${Math.round(steps.at(-1)!.idleMessagesPer15s.out)} out`);
    }
  } finally {
    await Promise.all(loads.map(async (load) => load.call("close").catch(() => {}).then(() => load.stop())));
    await sleep(2000);
  }
  const x = [0, ...steps.map((s) => s.editors)];
  return {
    room,
    editBytes: settings.editBytes,
    settleMs: settings.settleMs,
    before,
    steps,
    rssSlope: slope(x, [before.rss, ...steps.map((s) => s.memory.rss)]),
    heapSlope: slope(x, [before.heapUsed, ...steps.map((s) => s.memory.heapUsed)]),
  };
}
