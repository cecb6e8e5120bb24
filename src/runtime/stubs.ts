import WebSocket from "ws";
import type * as Party from "../types/party.js";

/** How room-to-room calls reach their target without the front door's onBefore* hooks. */
export interface StubTransport {
  /** `host:port` the server listens on, used in the URLs rooms see. */
  origin(): string;
  /** Delivers a request straight to a room's onRequest. */
  request(party: string, roomId: string, request: Request): Promise<Response>;
  /** Connects a WebSocket upgrade request to a room; resolves with its 101 once onConnect ran. */
  connect(party: string, roomId: string, request: Request): Promise<Response>;
  /** Header that lets an internal WebSocket skip onBeforeConnect, and its per-process secret. */
  readonly internalHeader: string;
  readonly secret: string;
}

/**
 * The output gate of the room that makes a call: a subrequest is outgoing output like a reply,
 * so it leaves only once the writes made before it are durable (Durable Object semantics).
 */
export interface OutputGated {
  /** Undefined when nothing is held; rejects (the call fails) when those writes failed. */
  outputMayLeave(): Promise<void> | undefined;
}

/**
 * `room.context.parties` / `lobby.parties`: one entry per party, including main. `caller` is the
 * room whose output gate the calls pass (none for a lobby).
 */
export function createParties(partyNames: readonly string[], transport: StubTransport, caller?: OutputGated): Party.Parties {
  const parties: Party.Parties = {};
  for (const name of partyNames) {
    parties[name] = { get: (id: string) => createStub(name, id, transport, caller) };
  }
  return parties;
}

function roomUrl(transport: StubTransport, party: string, roomId: string, path: string, scheme: "http" | "ws"): string {
  return `${scheme}://${transport.origin()}/parties/${party}/${roomId}${path}`;
}

function splitArgs(pathOrInit: unknown, init: RequestInit | undefined): { path: string; init: RequestInit | undefined } {
  if (typeof pathOrInit === "string") {
    if (!pathOrInit.startsWith("/")) throw new Error("Path must start with /");
    return { path: pathOrInit, init };
  }
  return { path: "", init: (pathOrInit as RequestInit | undefined) ?? init };
}

function createStub(party: string, roomId: string, transport: StubTransport, caller: OutputGated | undefined): Party.Stub {
  return {
    async fetch(pathOrInit?: string | RequestInit | Request, maybeInit?: RequestInit): Promise<Response> {
      // A Request counts as init only (method, headers, body): PartyKit sends it to the room's
      // own URL and ignores the Request's URL.
      const { path, init } = splitArgs(pathOrInit, maybeInit);
      const request = new Request(roomUrl(transport, party, roomId, path, "http"), init);
      const held = caller?.outputMayLeave();
      if (held !== undefined) await held;
      // An upgrade goes to the room's WebSocket handling, as on PartyKit (the sharding pattern).
      if (request.headers.get("upgrade")?.toLowerCase() === "websocket") return transport.connect(party, roomId, request);
      return transport.request(party, roomId, request);
    },

    async socket(pathOrInit?: string | RequestInit, maybeInit?: RequestInit): Promise<globalThis.WebSocket> {
      const { path, init } = splitArgs(pathOrInit, maybeInit);
      const held = caller?.outputMayLeave();
      if (held !== undefined) await held;
      const headers: Record<string, string> = { [transport.internalHeader]: transport.secret };
      new Headers(init?.headers).forEach((value, key) => (headers[key] = value));
      const socket = new WebSocket(roomUrl(transport, party, roomId, path, "ws"), { headers });
      socket.binaryType = "arraybuffer";
      return new Promise((resolve, reject) => {
        socket.once("open", () => {
          // Frames that came with the 101 would be emitted before the caller's `await` returns
          // and attaches its listeners; hold them until then, as workerd's accept() does.
          socket.pause();
          resolve(socket as unknown as globalThis.WebSocket);
          setImmediate(() => socket.resume());
        });
        socket.once("unexpected-response", () => {
          socket.terminate();
          reject(new Error("Expected a websocket response"));
        });
        socket.once("error", (error) => reject(error));
      });
    },

    /** @deprecated use `await socket()`. Goes through the network, onBeforeConnect included. */
    connect(): globalThis.WebSocket {
      const socket = new WebSocket(roomUrl(transport, party, roomId, "", "ws"));
      socket.binaryType = "arraybuffer";
      return socket as unknown as globalThis.WebSocket;
    },
  };
}
