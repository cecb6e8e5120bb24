import type * as Party from "partykit/server";

// A workerd global (@cloudflare/workers-types declares it; Node 22's types do not).
declare const URLPattern: unknown;

// Patterns of real PartyKit apps (issue 9): a router party that hands upgrades to shard rooms
// with stub.fetch(), a WebSocketPair rejection, and environment reads as SDKs do them.
export default class Patterns implements Party.Server {
  constructor(readonly room: Party.Room) {}

  static async onBeforeConnect(req: Party.Request, lobby: Party.Lobby) {
    const url = new URL(req.url);
    const shard = url.searchParams.get("shard");
    if (shard !== null) return lobby.parties.shard!.get(`s-${shard}`).fetch(req);
    if (url.searchParams.has("reject")) {
      const pair = new WebSocketPair();
      pair[1].accept();
      pair[1].close(4001, "go away");
      return new Response(null, { status: 101, webSocket: pair[0] });
    }
    return req;
  }

  onConnect(connection: Party.Connection) {
    connection.send(`patterns ${this.room.id}`);
  }

  onRequest() {
    const name = ["DIFF", "SECRET"].join("_");
    return Response.json({
      dotted: process.env.DIFF_SECRET ?? null,
      dynamic: process.env[name] ?? null,
      listed: Object.keys(process.env).includes(name),
      varType: typeof this.room.env.DIFF_COUNT,
      varValue: this.room.env.DIFF_COUNT ?? null,
      configVarType: typeof this.room.env.DIFF_NUMBER,
      urlPattern: typeof URLPattern,
    });
  }
}
