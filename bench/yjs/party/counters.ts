// Bookkeeping both bench parties share: how many room instances and Y.Docs are alive, counted with a
// FinalizationRegistry, and `/__bench/memory` (a static onFetch, which wakes no room) to read them
// with the heap after a full GC. Proof that hibernated documents really left memory.
import type * as Party from "partykit/server";
import { getHeapSpaceStatistics, getHeapStatistics, writeHeapSnapshot } from "node:v8";
import { tmpdir } from "node:os";
import { join } from "node:path";

const counts = { instances: 0, docs: 0 };
/** Instances built per room id: how often a room woke. */
const built = new Map<string, number>();
const collected = new FinalizationRegistry<"instances" | "docs">((kind) => counts[kind]--);

export function trackInstance(instance: object, roomId: string): void {
  built.set(roomId, (built.get(roomId) ?? 0) + 1);
  counts.instances++;
  collected.register(instance, "instances");
}

export function trackDoc(doc: object): void {
  counts.docs++;
  collected.register(doc, "docs");
}

export async function memoryResponse(req: Party.Request): Promise<Response | null> {
  const url = new URL(req.url);
  // A heap snapshot of the server, for finding where the bytes per editor are (bench README).
  if (url.pathname === "/__bench/heapsnapshot") {
    return Response.json({ file: writeHeapSnapshot(join(url.searchParams.get("dir") ?? tmpdir(), `yjs-${Date.now()}.heapsnapshot`)) });
  }
  if (url.pathname !== "/__bench/memory") return null;
  const g = globalThis as { gc?: () => void };
  // Finalizers run in a task after the GC that found their objects: collect, let them run, collect again.
  g.gc?.();
  await new Promise((resolve) => setTimeout(resolve, 50));
  g.gc?.();
  return Response.json({
    gc: typeof g.gc === "function",
    usage: process.memoryUsage(),
    // Where V8's memory is (physical size per space, and what V8 itself mallocs), for the notes.
    heap: getHeapStatistics(),
    spaces: getHeapSpaceStatistics().map((s) => ({ name: s.space_name, size: s.space_size, physical: s.physical_space_size, used: s.space_used_size })),
    live: { ...counts },
    built: built.get(url.searchParams.get("room") ?? "") ?? 0,
  });
}
