// Bookkeeping both bench parties share: how many room instances and Y.Docs are alive, counted with a
// FinalizationRegistry, and `/__bench/memory` (a static onFetch, which wakes no room) to read them
// with the heap after a full GC. Proof that hibernated documents really left memory.
import type * as Party from "partykit/server";

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
  if (url.pathname !== "/__bench/memory") return null;
  const g = globalThis as { gc?: () => void };
  // Finalizers run in a task after the GC that found their objects: collect, let them run, collect again.
  g.gc?.();
  await new Promise((resolve) => setTimeout(resolve, 50));
  g.gc?.();
  return Response.json({ gc: typeof g.gc === "function", usage: process.memoryUsage(), live: { ...counts }, built: built.get(url.searchParams.get("room") ?? "") ?? 0 });
}
