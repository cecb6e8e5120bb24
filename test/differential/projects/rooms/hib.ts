import type * as Party from "partykit/server";
import { errorText, sortedIds } from "./shared.js";

// A hibernating class party: connection state lives in the 2 KB socket attachment, tags are
// validated, and getConnections lists open sockets only.
export default class Hib implements Party.Server {
  readonly options = { hibernate: true };

  constructor(readonly room: Party.Room) {}

  getConnectionTags(_connection: Party.Connection, ctx: Party.ConnectionContext) {
    const url = new URL(ctx.request.url);
    const count = url.searchParams.get("tags");
    if (count !== null) return Array.from({ length: Number(count) }, (_, i) => `t${i}`);
    return url.searchParams.getAll("tag");
  }

  onConnect(connection: Party.Connection) {
    connection.send(`hib hello ${connection.id} state ${JSON.stringify(connection.state)}`);
  }

  onMessage(message: string | ArrayBuffer | ArrayBufferView, sender: Party.Connection) {
    if (typeof message !== "string") {
      sender.send(`binary ${Object.prototype.toString.call(message)} ${(message as ArrayBuffer).byteLength}`);
      sender.send(message);
      return;
    }
    const space = message.indexOf(" ");
    const command = space === -1 ? message : message.slice(0, space);
    const arg = space === -1 ? "" : message.slice(space + 1);
    switch (command) {
      case "setstate":
        sender.setState(JSON.parse(arg));
        return sender.send(`state ${JSON.stringify(sender.state)}`);
      case "mutate": {
        // The state is a copy on every read: mutating it changes nothing.
        const state = sender.state as { n?: number } | null;
        if (state) state.n = 999;
        return sender.send(`state ${JSON.stringify(sender.state)}`);
      }
      case "bigstate":
        try {
          sender.setState("x".repeat(Number(arg)));
          return sender.send(`bigstate ok`);
        } catch (error) {
          return sender.send(`bigstate ${errorText(error)}`);
        }
      case "attachment":
        sender.serializeAttachment({ att: arg });
        return sender.send(`attachment ${JSON.stringify(sender.deserializeAttachment())} state ${JSON.stringify(sender.state)}`);
      case "ids":
        return sender.send(`ids ${sortedIds(this.room.getConnections(arg || undefined))}`);
      case "get":
        try {
          const found = this.room.getConnection(arg);
          return sender.send(`get ${found ? found.id : "none"}`);
        } catch (error) {
          return sender.send(`get threw ${errorText(error)}`);
        }
      case "broadcast":
        return this.room.broadcast(`broadcast ${arg} from ${sender.id}`, [sender.id]);
      case "close-then-broadcast": {
        sender.close(4000, "closing");
        let outcome = "broadcast ok";
        try {
          this.room.broadcast("after close");
        } catch (error) {
          outcome = `broadcast threw ${errorText(error)}`;
        }
        this.room.broadcast(`close-then-broadcast: ${outcome}`, [sender.id]);
        return;
      }
      case "close":
        return sender.close(4001, "hib close");
      default:
        return sender.send(`unknown ${message}`);
    }
  }

  onClose(connection: Party.Connection) {
    this.room.broadcast(`left ${connection.id} remaining ${sortedIds(this.room.getConnections())}`);
  }

  onError(connection: Party.Connection, error: Error) {
    this.room.broadcast(`error ${connection.id} ${errorText(error)} remaining ${sortedIds(this.room.getConnections())}`);
  }
}
