import type * as Party from "partykit/server";

type ShardState = { lobby: string | null };

/** A shard: a chat room shared by every lobby that hashes to it. */
export default class Shard implements Party.Server {
  options: Party.ServerOptions = { hibernate: true };
  constructor(readonly room: Party.Room) {}

  onConnect(connection: Party.Connection<ShardState>) {
    connection.setState({ lobby: null });
    connection.send(JSON.stringify({ type: "welcome", shard: this.room.id, connections: [...this.room.getConnections()].length }));
  }

  onMessage(message: string, sender: Party.Connection<ShardState>) {
    const data = JSON.parse(message) as { type: "join"; lobby: string } | { type: "say"; text: string };
    if (data.type === "join") sender.setState({ lobby: data.lobby });
    else this.room.broadcast(JSON.stringify({ type: "said", shard: this.room.id, from: sender.state?.lobby, text: data.text }), [sender.id]);
  }
}
