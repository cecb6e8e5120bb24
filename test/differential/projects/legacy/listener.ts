import type * as Party from "partykit/server";

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : `non-error: ${String(error)}`;
}

// Old-style object with only onConnect: it listens on the connection itself and does not
// hibernate, so connection state has no size limit.
export default {
  onConnect(connection, room) {
    connection.send(`listener hello ${connection.id} room ${room.id}`);
    connection.addEventListener("message", (event) => {
      const data = event.data;
      if (typeof data !== "string") {
        connection.send(`listener binary ${Object.prototype.toString.call(data)}`);
        return;
      }
      if (data.startsWith("bigstate ")) {
        try {
          connection.setState({ big: "x".repeat(Number(data.slice(9))) });
          connection.send(`bigstate ok ${(connection.state as { big: string }).big.length}`);
        } catch (error) {
          connection.send(`bigstate ${errorText(error)}`);
        }
        return;
      }
      connection.send(`listener echo ${data}`);
    });
    connection.addEventListener("close", () => {
      room.broadcast(`listener left ${connection.id}`);
    });
  },
} satisfies Party.PartyKitServer;
