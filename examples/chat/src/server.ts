import type * as Party from "partykit/server";

type ChatMessage = { from: string; text: string; at: number };
const HISTORY = 50;

/**
 * A chat room: every message is broadcast to the room and the last 50 are kept in storage,
 * so a newcomer (or a reload) sees the recent history. It hibernates when idle.
 */
export default class Chat implements Party.Server {
  readonly options = { hibernate: true };

  constructor(readonly room: Party.Room) {}

  async onConnect(connection: Party.Connection) {
    const history = (await this.room.storage.get<ChatMessage[]>("history")) ?? [];
    connection.send(JSON.stringify({ type: "history", messages: history }));
    this.room.broadcast(JSON.stringify({ type: "presence", count: [...this.room.getConnections()].length }));
  }

  async onMessage(message: string | ArrayBuffer) {
    if (typeof message !== "string") return;
    const { name, text } = JSON.parse(message) as { name?: string; text?: string };
    if (!text || text.length > 2000) return;
    const entry: ChatMessage = { from: (name || "anonymous").slice(0, 40), text, at: Date.now() };
    const history = (await this.room.storage.get<ChatMessage[]>("history")) ?? [];
    history.push(entry);
    await this.room.storage.put("history", history.slice(-HISTORY));
    this.room.broadcast(JSON.stringify({ type: "message", message: entry }));
  }

  onClose() {
    this.room.broadcast(JSON.stringify({ type: "presence", count: [...this.room.getConnections()].length }));
  }

  async onRequest(req: Party.Request) {
    if (req.method === "GET") {
      return Response.json((await this.room.storage.get<ChatMessage[]>("history")) ?? []);
    }
    return new Response("Method not allowed", { status: 405 });
  }
}
