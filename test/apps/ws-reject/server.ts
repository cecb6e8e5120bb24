import type * as Party from "partykit/server";

/**
 * Rejects unauthorised sockets with a reason the browser can read: a plain 401 only shows as
 * a failed handshake (1006), so the app completes the handshake with a WebSocketPair end that
 * it has already closed with 4001 and the reason.
 */
function rejectWith(code: number, reason: string): Response {
  const pair = new WebSocketPair();
  pair[1].accept();
  pair[1].close(code, reason);
  return new Response(null, { status: 101, webSocket: pair[0] });
}

export default class Guarded implements Party.Server {
  constructor(readonly room: Party.Room) {}

  static async onBeforeConnect(request: Party.Request, lobby: Party.Lobby) {
    const token = new URL(request.url).searchParams.get("token");
    if (!token) return rejectWith(4001, "missing token");
    if (token !== lobby.env.ROOM_TOKEN) return rejectWith(4003, `bad token for ${lobby.id}`);
    return request;
  }

  onConnect(connection: Party.Connection) {
    connection.send(`welcome to ${this.room.id}`);
  }
}
