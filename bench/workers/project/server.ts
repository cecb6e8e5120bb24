// The room of `npm run bench:workers`: `?burn=<ms>` burns that much CPU in onRequest, `?block`
// blocks the worker (the watchdog ends it), a message is echoed, "fan" is broadcast to the room.
import type * as Party from "partykit/server";

export default class BenchRoom implements Party.Server {
  constructor(readonly room: Party.Room) {}

  onRequest(request: Party.Request): Response {
    const url = new URL(request.url);
    const burn = url.searchParams.get("burn");
    if (burn !== null) {
      const end = performance.now() + Number(burn);
      while (performance.now() < end);
    }
    if (url.searchParams.has("block")) for (;;);
    // Which worker process serves the room (the stall scenario picks rooms of the other one).
    if (url.searchParams.has("pid")) return new Response(String(process.pid));
    return new Response("ok");
  }

  onMessage(message: string, sender: Party.Connection): void {
    if (message === "fan") this.room.broadcast(message);
    else sender.send(message);
  }
}
