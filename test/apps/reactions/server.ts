import type * as Party from "partykit/server";
import { rateLimit } from "./rate-limit";

/** Reactions: each one is counted and broadcast, at most one per connection every 100 ms. */
export default class Reactions implements Party.Server {
  options: Party.ServerOptions = { hibernate: true };
  constructor(readonly room: Party.Room) {}

  async onConnect(connection: Party.Connection) {
    const counts = (await this.room.storage.get<Record<string, number>>("counts")) ?? {};
    connection.send(JSON.stringify({ type: "counts", counts }));
  }

  onMessage(message: string, sender: Party.Connection) {
    rateLimit(sender, 100, async () => {
      const kind = String(message);
      const counts = (await this.room.storage.get<Record<string, number>>("counts")) ?? {};
      counts[kind] = (counts[kind] ?? 0) + 1;
      await this.room.storage.put("counts", counts);
      this.room.broadcast(JSON.stringify({ type: "counts", counts }));
    });
  }
}
