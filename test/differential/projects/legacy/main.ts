import type * as Party from "partykit/server";

function errorText(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : `non-error: ${String(error)}`;
}

// The deprecated object API. Having onMessage makes it hibernate (PartyKit's rule), so the
// 2 KB attachment limit applies to its connection state.
export default {
  onBeforeRequest(req) {
    if (new URL(req.url).searchParams.has("deny")) throw new Error("legacy denied");
    return req;
  },
  unstable_onFetch(req) {
    const url = new URL(req.url);
    if (url.pathname === "/legacy-null") return null;
    return new Response(`legacy unstable_onFetch ${req.method} ${url.pathname}`);
  },
  onConnect(connection, room, ctx) {
    connection.send(`legacy hello ${connection.id} room ${room.id} name ${room.name} ${new URL(ctx.request.url).pathname}`);
  },
  onMessage(message, connection, room) {
    if (typeof message !== "string") {
      connection.send(`legacy binary ${Object.prototype.toString.call(message)}`);
      return;
    }
    if (message.startsWith("bigstate ")) {
      try {
        connection.setState("x".repeat(Number(message.slice(9))));
        connection.send("bigstate ok");
      } catch (error) {
        connection.send(`bigstate ${errorText(error)}`);
      }
      return;
    }
    if (message === "ids") {
      connection.send(`ids ${[...room.getConnections()].map((c) => c.id).sort().join(",")}`);
      return;
    }
    room.broadcast(`legacy ${message} from ${connection.id}`);
  },
  onClose(connection, room) {
    room.broadcast(`legacy left ${connection.id}`);
  },
  async onRequest(req, room) {
    return new Response(`legacy onRequest ${req.method} room ${room.id} name ${room.name} body ${await req.text()}`);
  },
} satisfies Party.PartyKitServer;
