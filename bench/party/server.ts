// The one Party.Server both partyhouse and `partykit dev` run in the bench; bench/servers/bare.ts
// reproduces it by hand. Keep the work per event minimal so the runtimes, not this file, are measured.
import type * as Party from "partykit/server";

/** The fixed body every plain request gets (the bare server answers the same bytes). */
const BODY = "hello from the bench party";

/** What workerd exposes of `process`, if anything: the memory route degrades to null there. */
interface MemoryProcess {
  memoryUsage?: () => unknown;
}

export default class BenchServer implements Party.Server {
  constructor(readonly room: Party.Room) {}

  async onRequest(req: Party.Request): Promise<Response> {
    const path = new URL(req.url).pathname;
    if (path.endsWith("/put")) {
      // For the storage rows: one durable write per request, answered after it resolves.
      await this.room.storage.put("value", path.length);
      return new Response("stored");
    }
    if (path.endsWith("/__bench/memory")) return memoryResponse();
    if (path.endsWith("/sink")) {
      // For bench:cluster's upload rounds: the whole body read, its size answered.
      let bytes = 0;
      const reader = req.body?.getReader();
      for (let read = await reader?.read(); read && !read.done; read = await reader!.read()) bytes += read.value.byteLength;
      return new Response(String(bytes));
    }
    return new Response(BODY);
  }

  onMessage(message: string | ArrayBuffer | ArrayBufferView, sender: Party.Connection): void {
    if (typeof message === "string" && message.startsWith("bcast:")) this.room.broadcast(message);
    else sender.send(message);
  }
}

/** Heap and RSS after a full GC (needs `node --expose-gc`); null where the runtime has no process. */
function memoryResponse(): Response {
  const g = globalThis as { gc?: () => void; process?: MemoryProcess };
  g.gc?.();
  const usage = g.process?.memoryUsage?.() ?? null;
  return Response.json({ gc: typeof g.gc === "function", usage });
}
