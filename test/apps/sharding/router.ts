import type * as Party from "partykit/server";

const SHARDS = 4;

/** Which shard a lobby's clients go to: a stable hash of the lobby name. */
function shardOf(lobby: string): string {
  let hash = 0;
  for (const char of lobby) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return `shard-${hash % SHARDS}`;
}

/**
 * The router party of the documented sharding pattern: clients connect to
 * /parties/main/<lobby>; onBeforeConnect forwards the upgrade to a shard room, and the client
 * ends up connected there. The router room itself never gets a socket.
 */
export default class Router implements Party.Server {
  constructor(readonly room: Party.Room) {}

  static async onBeforeConnect(request: Party.Request, lobby: Party.Lobby) {
    return lobby.parties.shard!.get(shardOf(lobby.id)).fetch(request);
  }

  onConnect(connection: Party.Connection) {
    connection.close(4500, "the router room must not receive sockets");
  }

  onRequest() {
    return Response.json({ shardOf: Object.fromEntries(["lobby-a", "lobby-b", "lobby-c"].map((l) => [l, shardOf(l)])) });
  }
}
