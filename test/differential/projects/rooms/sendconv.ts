import type * as Party from "partykit/server";
import { errorText } from "./shared.js";

// Issue 18: send() and broadcast() given values that are neither strings nor buffers. workerd
// converts them as WebIDL does for a string: 42 → "42", {a:1} → "[object Object]", [1,2] → "1,2".
const VALUES: unknown[] = [42, true, null, { a: 1 }, [1, 2], undefined];

export default class SendConv implements Party.Server {
  constructor(readonly room: Party.Room) {}

  onConnect(connection: Party.Connection, ctx: Party.ConnectionContext) {
    if (new URL(ctx.request.url).searchParams.has("onconnect")) this.sendAll(connection);
  }

  onMessage(message: string | ArrayBuffer, sender: Party.Connection) {
    if (message === "send-all") this.sendAll(sender);
  }

  private sendAll(connection: Party.Connection) {
    for (const value of VALUES) {
      try {
        connection.send(value as string);
      } catch (error) {
        connection.send(`send threw ${errorText(error)}`);
      }
    }
    try {
      this.room.broadcast(7 as unknown as string);
    } catch (error) {
      connection.send(`broadcast threw ${errorText(error)}`);
    }
    connection.send("done");
  }
}
