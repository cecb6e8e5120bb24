/** The project the soak runs: a hibernating chat room with storage, and a stats endpoint. */
export const SOAK_CONFIG = JSON.stringify({ name: "soak", main: "server.ts" });

export const SOAK_SERVER = `
import { readdirSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";

const delay = monitorEventLoopDelay({ resolution: 10 });
delay.enable();

export default class Soak {
  static options = { hibernate: true };
  constructor(room) { this.room = room; }
  async onMessage(message, sender) {
    const text = typeof message === "string" ? message : "binary";
    if (text.startsWith("flood")) {
      this.room.storage.put("flood", text);
      return;
    }
    const count = ((await this.room.storage.get("count")) ?? 0) + 1;
    await this.room.storage.put("count", count);
    await this.room.storage.put("m" + (count % 50), text);
    this.room.broadcast(JSON.stringify({ count, text }), [sender.id]);
  }
  async onRequest(req) {
    const url = new URL(req.url);
    if (url.pathname.endsWith("/__soak/stats")) {
      const memory = process.memoryUsage();
      const stats = {
        heapUsed: memory.heapUsed,
        fds: readdirSync("/proc/self/fd").length,
        loopP99: delay.percentile(99) / 1e6,
        loopMax: delay.max / 1e6,
      };
      delay.reset();
      return Response.json(stats);
    }
    if (req.method === "POST") {
      await this.room.storage.put("posted", await req.text());
      return new Response("stored");
    }
    return new Response(String((await this.room.storage.get("count")) ?? 0));
  }
}
`;
