/**
 * The files `partyhouse init` writes: a partykit.json, a typed Party.Server, a client page
 * served as a static asset (plain WebSocket, so no client build), and a test using
 * partyhouse/testing. Kept as strings so the published package needs nothing else.
 */
export function templateFiles(name: string, partyhouseSpec: string): Record<string, string> {
  return {
    "partykit.json": JSON.stringify({ name, main: "src/server.ts", serve: "public" }, null, 2) + "\n",
    "package.json":
      JSON.stringify(
        {
          name,
          private: true,
          type: "module",
          scripts: {
            dev: "partyhouse dev",
            start: "partyhouse start",
            test: "node --import tsx --test src/server.test.ts",
            typecheck: "tsc --noEmit",
          },
          devDependencies: { partyhouse: partyhouseSpec, tsx: "^4.20.0", typescript: "^5.9.0", "@types/node": "^22.0.0" },
        },
        null,
        2,
      ) + "\n",
    "tsconfig.json":
      JSON.stringify(
        {
          compilerOptions: {
            target: "ES2022",
            module: "NodeNext",
            moduleResolution: "NodeNext",
            lib: ["ES2023", "DOM", "DOM.Iterable"],
            strict: true,
            skipLibCheck: true,
            noEmit: true,
            types: ["node"],
          },
          include: ["src"],
        },
        null,
        2,
      ) + "\n",
    ".gitignore": "node_modules/\n.partyhouse/\n",
    "src/server.ts": SERVER,
    "src/server.test.ts": TEST,
    "public/index.html": PAGE,
  };
}

const SERVER = `import type * as Party from "partyhouse/server";

/** A chat room that remembers how many messages it has seen (in durable storage). */
export default class Server implements Party.Server {
  // Hibernating rooms drop their instance when idle; sockets stay open.
  readonly options: Party.ServerOptions = { hibernate: true };

  constructor(readonly room: Party.Room) {}

  async onConnect(connection: Party.Connection) {
    const count = (await this.room.storage.get<number>("count")) ?? 0;
    connection.send(JSON.stringify({ type: "welcome", room: this.room.id, count }));
  }

  async onMessage(message: string | ArrayBuffer, sender: Party.Connection) {
    const count = ((await this.room.storage.get<number>("count")) ?? 0) + 1;
    await this.room.storage.put("count", count);
    this.room.broadcast(JSON.stringify({ type: "message", from: sender.id, text: String(message), count }));
  }

  async onRequest(_request: Party.Request) {
    const count = (await this.room.storage.get<number>("count")) ?? 0;
    return Response.json({ room: this.room.id, count });
  }
}

Server satisfies Party.Worker;
`;

const TEST = `import assert from "node:assert/strict";
import { after, test } from "node:test";
import { startTestServer } from "partyhouse/testing";
import Server from "./server.js";

const server = await startTestServer({ parties: { main: Server }, memory: true });
after(() => server.close());

test("a message is broadcast to the room and counted in storage", async () => {
  const alice = await server.connect("/parties/main/lobby?_pk=alice");
  const bob = await server.connect("/parties/main/lobby?_pk=bob");
  assert.deepEqual(JSON.parse(await alice.nextText()), { type: "welcome", room: "lobby", count: 0 });
  await bob.nextText();

  alice.send("hello");
  const expected = { type: "message", from: "alice", text: "hello", count: 1 };
  assert.deepEqual(JSON.parse(await alice.nextText()), expected);
  assert.deepEqual(JSON.parse(await bob.nextText()), expected);

  const response = await server.fetch("/parties/main/lobby");
  assert.deepEqual(await response.json(), { room: "lobby", count: 1 });
});
`;

const PAGE = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>partyhouse chat</title>
  <style>
    body { font: 15px/1.5 system-ui, sans-serif; max-width: 40em; margin: 2em auto; }
    #log { border: 1px solid #ccc; min-height: 12em; padding: .5em; white-space: pre-wrap; }
  </style>
</head>
<body>
  <h1>partyhouse chat</h1>
  <p>Room <b id="room"></b> · open this page in two tabs (<code>?room=name</code> picks a room).</p>
  <div id="log"></div>
  <form id="form"><input id="text" autocomplete="off" autofocus> <button>Send</button></form>
  <script type="module">
    const room = new URLSearchParams(location.search).get("room") || "lobby";
    document.getElementById("room").textContent = room;
    const log = (line) => document.getElementById("log").append(line + "\\n");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(\`\${scheme}://\${location.host}/parties/main/\${encodeURIComponent(room)}\`);
    socket.onmessage = (event) => {
      const data = JSON.parse(event.data);
      if (data.type === "welcome") log(\`joined \${data.room} (\${data.count} messages so far)\`);
      else log(\`\${data.from.slice(0, 8)}: \${data.text}\`);
    };
    socket.onclose = () => log("disconnected; reload to reconnect");
    document.getElementById("form").onsubmit = (event) => {
      event.preventDefault();
      const input = document.getElementById("text");
      if (input.value) socket.send(input.value);
      input.value = "";
    };
  </script>
</body>
</html>
`;
