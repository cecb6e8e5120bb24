import type * as Party from "partykit/server";
import { json, pathOf } from "./shared.js";

// onBeforeRequest / onBeforeConnect: throw, answer with a Response, or rewrite the request.
export default class Gate implements Party.Server {
  constructor(readonly room: Party.Room) {}

  static onBeforeRequest(req: Party.Request, lobby: Party.Lobby) {
    const url = new URL(req.url);
    if (url.searchParams.has("deny")) throw new Error("request denied");
    if (url.searchParams.has("block")) return new Response("blocked by onBeforeRequest", { status: 403, headers: { "x-blocked": "yes" } });
    if (url.searchParams.has("rewrite")) {
      url.searchParams.set("rewritten", "yes");
      return new Request(url.toString(), { method: "PUT", headers: { "x-added": `lobby ${lobby.id}` }, body: "new body" });
    }
    // The request is a mutable copy: changing it in place is a common pattern.
    req.headers.set("x-mutated", `lobby ${lobby.id}`);
    return req;
  }

  static onBeforeConnect(req: Party.Request, lobby: Party.Lobby) {
    const url = new URL(req.url);
    if (url.searchParams.has("deny")) throw new Error("connect denied");
    if (url.searchParams.has("block")) return new Response("blocked by onBeforeConnect", { status: 403 });
    if (url.searchParams.has("rewrite")) {
      url.searchParams.set("rewritten", "yes");
      return new Request(url.toString(), req);
    }
    req.headers.set("x-user", `alice in ${lobby.id}`);
    return req;
  }

  async onRequest(req: Party.Request) {
    return json({
      id: this.room.id,
      method: req.method,
      path: pathOf(req.url),
      added: req.headers.get("x-added"),
      mutated: req.headers.get("x-mutated"),
      body: await req.text(),
    });
  }

  onConnect(connection: Party.Connection, ctx: Party.ConnectionContext) {
    connection.send(`gate hello ${connection.id} ${pathOf(ctx.request.url)} x-user=${ctx.request.headers.get("x-user")}`);
  }
}
