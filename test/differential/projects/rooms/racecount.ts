import type * as Party from "partykit/server";

// Issue 18: requests that arrive while onStart awaits, each doing get → +1 → put. Under
// workerd's input gate no two of them read the same count: 20 POSTs answer 1…20.
export default class RaceCount implements Party.Server {
  constructor(readonly room: Party.Room) {}

  async onStart() {
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  async onRequest(req: Party.Request) {
    if (req.method === "POST") {
      const n = ((await this.room.storage.get<number>("count")) ?? 0) + 1;
      await this.room.storage.put("count", n);
      return new Response(String(n));
    }
    return new Response(String((await this.room.storage.get<number>("count")) ?? 0));
  }
}
