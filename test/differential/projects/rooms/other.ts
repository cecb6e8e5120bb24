import type * as Party from "partykit/server";
import { json, pathOf } from "./shared.js";

// Target of room.context.parties calls from main.
export default class Other implements Party.Server {
  constructor(readonly room: Party.Room) {}

  async onRequest(req: Party.Request) {
    return json({ party: this.room.name, id: this.room.id, method: req.method, path: pathOf(req.url), body: await req.text() });
  }

  onConnect(connection: Party.Connection, ctx: Party.ConnectionContext) {
    const headers = [...ctx.request.headers.keys()].filter((k) => k === "upgrade" || k.startsWith("x-")).sort();
    connection.send(`other hello ${connection.id} ${pathOf(ctx.request.url)} headers ${headers.join(",")}`);
  }
}
