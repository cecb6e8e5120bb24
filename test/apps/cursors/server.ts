import type * as Party from "partykit/server";
import { decode, encode } from "@msgpack/msgpack";

type Cursor = { x: number; y: number; pointer: "mouse" | "touch" };
type Outgoing =
  | { type: "sync"; cursors: Record<string, Cursor> }
  | { type: "update"; id: string; cursor: Cursor }
  | { type: "remove"; id: string };

/** Instances built in this process: a hibernated room builds a new one on its next event. */
let instances = 0;

/**
 * A live-cursors party: hibernating, binary msgpack frames both ways, each cursor kept in its
 * connection's state so it survives the room hibernating.
 */
export default class Cursors implements Party.Server {
  options: Party.ServerOptions = { hibernate: true };

  constructor(readonly room: Party.Room) {
    instances++;
  }

  onConnect(connection: Party.Connection<Cursor>) {
    const cursors: Record<string, Cursor> = {};
    for (const other of this.room.getConnections<Cursor>()) {
      if (other.id !== connection.id && other.state) cursors[other.id] = other.state;
    }
    connection.send(pack({ type: "sync", cursors }));
  }

  onMessage(message: string | ArrayBuffer, sender: Party.Connection<Cursor>) {
    if (typeof message === "string") return;
    const cursor = decode(new Uint8Array(message)) as Cursor;
    sender.setState(cursor);
    this.room.broadcast(pack({ type: "update", id: sender.id, cursor }), [sender.id]);
  }

  onClose(connection: Party.Connection) {
    this.room.broadcast(pack({ type: "remove", id: connection.id }), [connection.id]);
  }

  onRequest() {
    return Response.json({ instances });
  }
}

function pack(message: Outgoing): Uint8Array {
  return encode(message);
}
