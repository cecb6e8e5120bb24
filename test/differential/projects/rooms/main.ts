import type * as Party from "partykit/server";
import { errorText, json, pathOf, sortedIds } from "./shared.js";

type State = { n?: number; [key: string]: unknown } | null;

// The main party, class API, not hibernating: routing, onRequest errors, onFetch, and a
// small command language over WebSocket ("<command> <argument>").
export default class Main implements Party.Server {
  constructor(readonly room: Party.Room) {}

  static onFetch(req: Party.Request) {
    const url = new URL(req.url);
    if (url.pathname.startsWith("/fetch/")) return new Response(`onFetch ${req.method} ${pathOf(req.url)}`);
    if (url.pathname === "/fetch-throw") throw new Error("onFetch exploded");
    return null;
  }

  async onRequest(req: Party.Request) {
    const url = new URL(req.url);
    switch (url.searchParams.get("do")) {
      case "throw":
        throw new Error("request exploded");
      case "code":
        throw Object.assign(new Error("I'm a teapot"), { code: 418 });
      case "string":
        throw "a plain string";
      case "empty":
        throw new Error();
      case "non-response":
        return { not: "a response" } as unknown as Response;
      case "call-other": {
        const res = await this.room.context.parties.other!.get("o1").fetch("/sub/path?x=1", { method: "POST", body: "from main" });
        return new Response(`other said ${res.status} ${await res.text()}`);
      }
      case "call-request": {
        const res = await this.room.context.parties.other!.get("o2").fetch(new Request("http://ignored.invalid/req/path?y=2", { method: "PUT", body: "as request" }));
        return new Response(`other said ${res.status} ${await res.text()}`);
      }
      case "call-gate": {
        // onBeforeRequest would deny this; room-to-room calls skip it.
        const res = await this.room.context.parties.gate!.get("g1").fetch("/?deny=1");
        return new Response(`gate said ${res.status} ${await res.text()}`);
      }
      case "call-bad-path": {
        try {
          await this.room.context.parties.other!.get("o3").fetch("no-slash");
          return new Response("no error");
        } catch (error) {
          return new Response(errorText(error));
        }
      }
      case "call-main": {
        const res = await this.room.context.parties.main!.get("m2").fetch("/?from=main");
        return new Response(`main said ${res.status} ${await res.text()}`);
      }
      case "socket-other": {
        const ws = await this.room.context.parties.other!.get("o4").socket("/ws/path?z=3");
        const first = await new Promise<string>((resolve) => {
          ws.addEventListener("message", (event) => resolve(String(event.data)), { once: true });
        });
        ws.close();
        return new Response(`other socket said ${first}`);
      }
    }
    return json({
      id: this.room.id,
      name: this.room.name,
      internalIdLength: this.room.internalID.length,
      method: req.method,
      path: pathOf(req.url),
      body: await req.text(),
    });
  }

  getConnectionTags(_connection: Party.Connection, ctx: Party.ConnectionContext) {
    return new URL(ctx.request.url).searchParams.getAll("tag");
  }

  onConnect(connection: Party.Connection, ctx: Party.ConnectionContext) {
    const url = new URL(ctx.request.url);
    if (url.searchParams.get("fail") === "connect") throw new Error("connect exploded");
    connection.send(`hello ${connection.id} ${pathOf(connection.uri)}`);
  }

  onMessage(message: string | ArrayBuffer | ArrayBufferView, sender: Party.Connection<State>) {
    if (typeof message !== "string") {
      const kind = Object.prototype.toString.call(message);
      const length = (message as ArrayBuffer).byteLength;
      sender.send(`binary ${kind} ${length}`);
      if (length < 100) sender.send(message);
      return;
    }
    if (message.length > 100) {
      sender.send(`long text ${message.length}`);
      return;
    }
    const space = message.indexOf(" ");
    const command = space === -1 ? message : message.slice(0, space);
    const arg = space === -1 ? "" : message.slice(space + 1);
    switch (command) {
      case "echo":
        return sender.send(`echo ${arg}`);
      case "broadcast":
        return this.room.broadcast(`broadcast ${arg} from ${sender.id}`, [sender.id]);
      case "broadcast-all":
        return this.room.broadcast(`broadcast-all ${arg} from ${sender.id}`);
      case "ids":
        return sender.send(`ids ${sortedIds(this.room.getConnections(arg || undefined))}`);
      case "get": {
        try {
          const found = this.room.getConnection(arg);
          return sender.send(`get ${found ? `${found.id} readyState ${found.readyState}` : "none"}`);
        } catch (error) {
          return sender.send(`get threw ${errorText(error)}`);
        }
      }
      case "setstate":
        sender.setState(JSON.parse(arg) as State);
        return sender.send(`state ${JSON.stringify(sender.state)}`);
      case "update": {
        const returned = sender.setState((prev) => ({ ...prev, n: ((prev?.n as number | undefined) ?? 0) + 1 }));
        return sender.send(`state ${JSON.stringify(sender.state)} returned ${JSON.stringify(returned)}`);
      }
      case "state":
        return sender.send(`state ${JSON.stringify(sender.state)}`);
      case "bigstate":
        try {
          sender.setState({ big: "x".repeat(Number(arg)) });
          return sender.send(`bigstate ok ${JSON.stringify(sender.state).length}`);
        } catch (error) {
          return sender.send(`bigstate ${errorText(error)}`);
        }
      case "attachment":
        sender.serializeAttachment({ att: arg });
        return sender.send(`attachment ${JSON.stringify(sender.deserializeAttachment())} state ${JSON.stringify(sender.state)}`);
      case "close":
        return sender.close();
      case "close-code":
        return sender.close(4002, "custom");
      case "close-then-send": {
        sender.close(4000, "closing");
        let outcome: string;
        try {
          sender.send("after close");
          outcome = "send did not throw";
        } catch (error) {
          outcome = `send threw ${errorText(error)}`;
        }
        return this.room.broadcast(`close-then-send: ${outcome}`, [sender.id]);
      }
      case "close-then-broadcast": {
        sender.close(4000, "closing");
        let outcome = "broadcast ok";
        try {
          this.room.broadcast("after close");
        } catch (error) {
          outcome = `broadcast threw ${errorText(error)}`;
        }
        for (const other of this.room.getConnections()) {
          if (other.id !== sender.id) other.send(`close-then-broadcast: ${outcome}`);
        }
        return;
      }
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
