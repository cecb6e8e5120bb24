/**
 * Idioms of real PartyKit projects that must type-check against partyhouse's `partykit/server`
 * types. Never run: `npm test` type-checks it (test/tsconfig.json), so a type that drifts from
 * PartyKit's fails the build. Each block names the idiom it guards.
 */
import type * as Party from "partykit/server";

interface CounterUpdate {
  page: string;
  count: number;
}

// A party whose class has only statics (a router in front of other parties) is still a Worker,
// even though its instances share no member with Party.Server.
export class Router {
  constructor(readonly room: Party.Room) {}

  static async onFetch(req: Party.Request, lobby: Party.FetchLobby) {
    const url = new URL(req.url);
    if (url.pathname !== "/route") return null;
    return lobby.parties.counter!.get("shard-1").fetch({ method: "POST", body: await req.text() });
  }
}
Router satisfies Party.Worker;

// A hibernating class with typed connection state, tags, and a typed JSON body.
type Visitor = { name: string; visits: number };

export default class Counter implements Party.Server {
  readonly options: Party.ServerOptions = { hibernate: true };
  constructor(readonly room: Party.Room) {}

  static onBeforeConnect(req: Party.Request) {
    return new URL(req.url).searchParams.has("token") ? req : new Response("Unauthorized", { status: 401 });
  }

  getConnectionTags(_connection: Party.Connection, ctx: Party.ConnectionContext) {
    return [ctx.request.headers.get("x-team") ?? "none"];
  }

  async onRequest(req: Party.Request) {
    const update = await req.json<CounterUpdate>();
    await this.room.storage.put<number>(update.page, update.count);
    const stored = await this.room.storage.get<number>(update.page);
    return Response.json({ page: update.page, count: stored ?? 0 });
  }

  onConnect(connection: Party.Connection<Visitor>) {
    connection.setState({ name: connection.id, visits: 1 });
    connection.setState((previous) => ({ name: previous?.name ?? "", visits: (previous?.visits ?? 0) + 1 }));
  }

  onMessage(message: string | ArrayBuffer | ArrayBufferView, sender: Party.Connection<Visitor>) {
    const visits: number | undefined = sender.state?.visits;
    this.room.broadcast(JSON.stringify({ from: sender.id, visits, message: String(message) }), [sender.id]);
    for (const member of this.room.getConnections<Visitor>("none")) member.send(`tagged ${member.state?.name}`);
  }

  async onAlarm() {
    await this.room.storage.setAlarm(Date.now() + 1_000);
  }
}
Counter satisfies Party.Worker;

// The legacy object API: unstable_onFetch may pass a request on with null.
export const legacy = {
  unstable_onFetch(req: Party.Request) {
    return new URL(req.url).pathname === "/legacy" ? new Response("legacy") : null;
  },
  onConnect(connection: Party.Connection, room: Party.Room) {
    connection.send(`welcome to ${room.id}`);
  },
} satisfies Party.PartyKitServer;
