// Server memory per idle WebSocket: V8 heap after a full GC (asked of the server itself, the stable
// figure) and RSS of the server's process tree (read from /proc, comparable for every server).
// Sockets sit in one room and send nothing; the difference before and after opening them, divided
// by the number open, is the per-socket cost.
import type { MemoryScenario } from "./types.js";
import type { RunningServer } from "../servers/server-handle.js";
import type { Settings } from "../lib/options.js";
import { LoadProcess } from "../lib/load-process.js";
import { rssBytes } from "../lib/proc-stats.js";
import { nowUs, sleep } from "../lib/clock.js";

interface MemoryReading {
  heapUsed: number | null;
  rss: number;
  gc: boolean;
}

/** Heap after GC from the server (null when it cannot say) and tree RSS from /proc. */
async function read(server: RunningServer): Promise<MemoryReading> {
  let answer: { gc?: boolean; usage?: { heapUsed?: number } | null } = {};
  // Twice: the first GC can leave garbage that only a second pass (or finalizers) release.
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`http://${server.host}:${server.port}${server.memoryPath}`);
    answer = res.ok ? ((await res.json()) as typeof answer) : {};
  }
  const heapUsed = answer.usage?.heapUsed;
  return { heapUsed: heapUsed ? heapUsed : null, rss: rssBytes(server.tree()), gc: answer.gc === true };
}

async function measure(server: RunningServer, settings: Settings) {
  const before = await read(server);
  const loads: LoadProcess[] = [];
  try {
    const perProcess = Math.ceil(settings.idleSockets / settings.idleProcesses);
    for (let i = 0; i < settings.idleProcesses; i++) {
      const sockets = Math.min(perProcess, settings.idleSockets - i * perProcess);
      const params = { host: server.host, port: server.port, sockets, room: "idle-room" };
      loads.push(await LoadProcess.start(`${server.name} idle ${i}`, "ws-idle", params));
    }
    await sleep(500); // let the server finish any per-connection work before reading
    const now = nowUs();
    const counts = await Promise.all(loads.map((l) => l.window({ startUs: now, endUs: now })));
    const open = counts.reduce((sum, c) => sum + c.ops, 0);
    const after = await read(server);
    const perSocket = (a: number | null, b: number | null) => (a !== null && b !== null && open > 0 ? (b - a) / open / 1024 : NaN);
    return {
      metrics: {
        "memory.heap": before.gc ? perSocket(before.heapUsed, after.heapUsed) : NaN,
        "memory.rss": perSocket(before.rss, after.rss),
      },
      details: { open, before, after },
    };
  } finally {
    await Promise.all(loads.map((l) => l.stop()));
  }
}

export const memory: MemoryScenario = {
  kind: "memory",
  id: "memory",
  title: "Server memory per idle WebSocket (one room)",
  metrics: [
    { key: "memory.heap", label: "V8 heap per idle socket (after GC)", unit: "KiB", better: "lower", target: 1.5 },
    { key: "memory.rss", label: "RSS per idle socket", unit: "KiB", better: "lower", target: 1.5 },
  ],
  measure,
};
