import type * as Party from "partykit/server";

// No onRequest: HTTP to its rooms is refused; WebSockets still work.
export default class NoHandler implements Party.Server {
  constructor(readonly room: Party.Room) {}

  onConnect(connection: Party.Connection) {
    connection.send(`nohandler hello ${connection.id}`);
  }
}
