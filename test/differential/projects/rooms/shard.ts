import type * as Party from "partykit/server";

// The target of the sharding probe: a client routed here by `patterns` talks to this room.
export default class Shard implements Party.Server {
  constructor(readonly room: Party.Room) {}

  onConnect(connection: Party.Connection, ctx: Party.ConnectionContext) {
    connection.send(`shard ${this.room.id} saw ${new URL(ctx.request.url).pathname}`);
  }

  onMessage(message: string | ArrayBuffer | ArrayBufferView, sender: Party.Connection) {
    sender.send(`shard ${this.room.id} got ${String(message)}`);
  }
}
